"""Runs inside Locust: a request to a non-loopback URL is refused, and counted as a failure.

lagscope.loopback decides what is loopback; this module wraps the ``request`` method of
Locust's two HTTP clients so that a refused request

- is reported through the client's ``request`` event as a failed request (no response,
  so status 0; the refusal as its error), which puts it in ``requests.parquet``;
- logs one ``remote_target_refused`` event and one line in ``locust.log`` the first
  time in each load process, and a count when the load stops (no traceback per refusal);
- ends the task as Locust's RescheduleTask does (like ``return``: the user waits and
  picks its next task), so the scenario's code after the call never runs without its
  response.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, NoReturn

from locust import events
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import RescheduleTask

from lagscope import loopback, runfiles

logger = logging.getLogger("lagscope.loopback")


class _Refusals:
    """How many requests this load process refused."""

    count = 0


def _refuse(
    session: Any, run_dir: Path, *, method: str, url: str, name: str | None, full: str
) -> NoReturn:
    """Report the refused request as failed, note the first one, and end the task."""
    refused = loopback.refusal(full)
    name = name or session.request_name or url  # as Locust names it: given, grouped, or the URL
    session.request_event.fire(
        request_type=method, name=name, response_time=0.0,
        response_length=0, response=None, context={}, exception=refused,
        start_time=time.time(), url=full,
    )  # fmt: skip
    _Refusals.count += 1
    if _Refusals.count == 1:
        logger.warning("lagscope: %s (further refusals are counted, not logged)", refused)
        runfiles.log_event(run_dir, "remote_target_refused", source="load", url=full,
                         method=method, name=name, pid=os.getpid())  # fmt: skip
    raise RescheduleTask() from refused


def install(run_dir: Path) -> None:
    """Guard both HTTP clients of this Locust process."""
    # Base URLs already seen to be loopback. A path that starts with "/" appended to a base
    # URL cannot change its host (the host ends where the path begins), so such requests
    # skip parsing the URL: the check costs a set lookup, not a urlsplit per request.
    loopback_bases: set[str] = set()
    for session in (HttpSession, FastHttpSession):
        send = session.request

        def guarded(
            self: Any, method: str, url: str, *args: Any, _send: Any = send, **kwargs: Any
        ) -> Any:
            relative = isinstance(url, str) and url.startswith("/")
            if not (relative and self.base_url in loopback_bases):
                full = str(self._build_url(url))
                if not loopback.is_loopback_url(full):
                    name = kwargs.get("name") or (args[0] if args else None)
                    _refuse(self, run_dir, method=method, url=str(url), name=name, full=full)
                if relative and isinstance(self.base_url, str):
                    loopback_bases.add(self.base_url)
            return _send(self, method, url, *args, **kwargs)

        session.request = guarded  # type: ignore[method-assign]

    def on_test_stop(**_: Any) -> None:
        if _Refusals.count:
            logger.warning(
                "lagscope: refused %d requests to addresses that are not loopback; each is a "
                "failed request in requests.parquet",
                _Refusals.count,
            )

    # Locust's event hooks are untyped (see pyproject's mypy overrides).
    events.test_stop.add_listener(on_test_stop)  # type: ignore[no-untyped-call]
