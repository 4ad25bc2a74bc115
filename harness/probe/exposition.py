"""Answering scrapes on the app's own port, and the start-up check of multiprocess mode.

With ``PROMETHEUS_MULTIPROC_DIR`` set (several workers), each scrape merges every
worker's files (prometheus_client's ``MultiProcessCollector``); a worker that died is
marked dead first (its live gauges removed), whichever server ran it: a file names its
pid, and a pid that no longer runs is dead.  Without it, the scrape reads this
process's registry.  The text is built off the loop, in the loop's default executor.

Several workers without the directory would each answer with their own counters, a
different one at every scrape; ``check_setup`` finds that, and the probe fails the
server's start-up with it.  The number
of workers is read from the server that imports the app (uvicorn's ``Server.config``,
gunicorn's worker ``cfg``), found on the importing thread's stack.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from lagscope.errors import MetricsSetupError
from lagscope.metric_names import MULTIPROC_ENV

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

_LIVE_FILE = re.compile(r"^gauge_live\w+_(\d+)\.db$")


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_workers(directory: str) -> list[int]:
    """Mark every pid with live-gauge files in ``directory`` that no longer runs; return them."""
    pids = set()
    for entry in os.listdir(directory):
        match = _LIVE_FILE.match(entry)
        if match:
            pids.add(int(match.group(1)))
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return dead


def render(accept: str | None) -> tuple[bytes, str]:
    """The scrape's body and content type (Prometheus text, or OpenMetrics if asked)."""
    encoder, content_type = choose_encoder(accept or "")
    directory = multiproc_dir()
    if directory is None:
        return encoder(REGISTRY), content_type
    mark_dead_workers(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return encoder(registry), content_type


async def serve(scope: Scope, send: Send) -> None:
    """Answer one scrape (GET or HEAD)."""
    if scope.get("method") not in ("GET", "HEAD"):
        await _respond(send, 405, b"scrape with GET\n", "text/plain; charset=utf-8")
        return
    accept = next(
        (v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"accept"),
        None,
    )
    body, content_type = await asyncio.get_running_loop().run_in_executor(None, render, accept)
    await _respond(send, 200, b"" if scope["method"] == "HEAD" else body, content_type)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def server_workers() -> int | None:
    """How many worker processes the server importing this app runs; None if not known.

    Read off the calling thread's stack: uvicorn's ``Server`` (its ``config.workers``,
    1 under ``--reload``) and gunicorn's worker or arbiter (``cfg.workers``).
    """
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        module = type(owner).__module__ if owner is not None else ""
        if module.startswith("uvicorn.") and type(owner).__name__ == "Server":
            config = getattr(owner, "config", None)
            if config is not None:
                return 1 if getattr(config, "reload", False) else int(config.workers or 1)
        if module.startswith("gunicorn.") or _is_gunicorn_worker(owner):
            cfg = getattr(owner, "cfg", None)  # the worker's or the arbiter's settings
            if cfg is not None and hasattr(cfg, "workers"):
                return int(cfg.workers)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _is_gunicorn_worker(owner: object) -> bool:
    base = sys.modules.get("gunicorn.workers.base")
    return base is not None and isinstance(owner, base.Worker)


def check_setup(metrics_path: str) -> MetricsSetupError | None:
    """What makes metrics wrong as the server is set up, if anything: several workers
    without ``PROMETHEUS_MULTIPROC_DIR``, or a directory that does not exist.

    Call it where the app is imported (the server is then on the stack).  The error is
    returned, not raised: the probe fails the server's start-up with it (lifespan), as
    an exception at import would make uvicorn restart its workers forever.
    """
    directory = multiproc_dir()
    if directory is not None:
        if not Path(directory).is_dir():
            return MetricsSetupError(
                f"{MULTIPROC_ENV}={directory} is not a directory; create it (empty, writable by "
                "every worker) before starting the server, and empty it before each start"
            )
        return None
    workers = server_workers()
    if workers is not None and workers > 1:
        return MetricsSetupError(
            f"instrument(app, metrics_path={metrics_path!r}) runs in {workers} worker processes "
            f"without {MULTIPROC_ENV}: each worker would answer scrapes with its own counters. "
            f"Set {MULTIPROC_ENV} to an empty directory every worker can write, e.g. "
            f"'{MULTIPROC_ENV}=$(mktemp -d) uvicorn app:app --workers {workers}'"
        )
    return None
