"""Unhandled exceptions: each one that escapes the app to the server (the client got a 500,
or no answer), counted by what it was and where in the user's code it was raised.

The probe's ASGI wrapper notes an exception on its way out (``note``; nothing runs while
requests succeed).  With a run directory the counts go whole to
``workers/<pid>/exceptions.json``, at most once a second while exceptions come and once
more when the worker stops (docs/run-directory.md); with metrics, each one also counts in
``lagscope_unhandled_exceptions_total{worker, type, location}`` (``on_kind``):

    {"total": 300, "other": 0,
     "kinds": [{"type": "ZeroDivisionError", "message": "division by zero",
                "site": "main/__init__.py:21", "endpoint": "GET /crash", "count": 300}]}

``site`` is the innermost frame of the user's code in the traceback ("" when none is the
user's); at most MAX_KINDS distinct kinds are kept, the rest counted in ``other``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any

from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.routes import route_for, routed_path

from lagscope import metric_names as names
from lagscope import runfiles
from lagscope.errors import RunDirError

MAX_KINDS = 50
MESSAGE_CHARS = 200
WRITE_EVERY_S = 1.0
Kind = tuple[str, str, str, str]  # type, message, site, endpoint


def first_line(exc: BaseException) -> str:
    """The exception's message: its first line, cut to MESSAGE_CHARS."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def raised_at(tb: TracebackType | None, frame_filter: FrameFilter) -> str:
    """``path:line`` of the innermost frame of the user's code in ``tb``, or ""."""
    site = ""
    while tb is not None:
        code = tb.tb_frame.f_code
        if frame_filter.is_user(code.co_filename):
            site = frame_filter.location(code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return site


def endpoint_of(scope: Mapping[str, Any], endpoints: Mapping[CodeType, str]) -> str:
    """``METHOD /route/{template}`` of the route the app matched the request to, or (raised
    before routing: a middleware) of the route its raw path matches in ``endpoints``;
    ``METHOD unmatched`` when none does.  An app with no routes known (not built on
    Starlette) keeps the raw path.  Never a raw path that the app's routes could bound:
    one kind per id would fill the bound."""
    method = str(scope.get("method", ""))
    raw = str(scope.get("path", ""))
    path = routed_path(scope) or (
        (route_for(method, raw, endpoints.values()) or names.UNMATCHED_ROUTE) if endpoints else raw
    )
    return f"{method} {path}".strip()


class UnhandledLog:
    """Counts the exceptions that escape the app; writes them to ``path``."""

    def __init__(
        self,
        path: Path | None,
        frame_filter: FrameFilter,
        *,
        on_kind: Callable[[str, str], None] | None = None,
        endpoints: Callable[[], Mapping[CodeType, str]] = dict,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``path``: the file (None: none written); ``on_kind(type, site)`` is called for
        each exception, with ``("other", "other")`` past MAX_KINDS kinds; ``endpoints``
        names the app's routes (``routes.endpoint_names``)."""
        self.path = path
        self.endpoints = endpoints
        self.frame_filter = frame_filter
        self.on_kind = on_kind
        self.counts: Counter[Kind] = Counter()
        self.other = 0
        self._clock = clock
        self._written_at: float | None = None
        self._dirty = False

    def note(self, exc: BaseException, scope: Mapping[str, Any]) -> None:
        kind = (
            type(exc).__name__,
            first_line(exc),
            raised_at(exc.__traceback__, self.frame_filter),
            endpoint_of(scope, self.endpoints()),
        )
        kept = kind in self.counts or len(self.counts) < MAX_KINDS
        if kept:
            self.counts[kind] += 1
        else:
            self.other += 1
        if self.on_kind is not None:
            self.on_kind(
                *((kind[0], kind[2]) if kept else (names.OTHER_LOCATION, names.OTHER_LOCATION))
            )
        self._dirty = True
        now = self._clock()
        if self._written_at is None or now - self._written_at >= WRITE_EVERY_S:
            self.write()

    def as_json(self) -> dict[str, Any]:
        kinds = [
            {"type": t, "message": m, "site": s, "endpoint": e, "count": n}
            for (t, m, s, e), n in self.counts.most_common()
        ]
        return {"total": sum(self.counts.values()) + self.other, "other": self.other,
                "kinds": kinds}  # fmt: skip

    def write(self) -> None:
        """The counts, whole (a temporary file renamed over the last); never raises: a full
        disk leaves the last written counts, and the next write tries again."""
        self._written_at = self._clock()
        if not self._dirty or self.path is None:
            return
        try:
            runfiles.write_text(self.path, json.dumps(self.as_json()))
        except RunDirError:  # its temporary file gone too: nothing half-written is left
            return
        self._dirty = False
