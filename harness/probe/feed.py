"""The probe's data over HTTP, for a harness that did not start this server (``--target``).

With ``instrument(app, probe_token=TOKEN)`` and no run directory, each worker records
into a private temporary folder exactly the files a local run's workers write
(``workers/<pid>/``: meta, lag, stalls, gauges, GC), and answers

    POST /_lagscope/probe   Authorization: Bearer TOKEN
    {"offsets": {"<pid>": {"lag.csv": 0, ...}}}      where this caller is in each file

with what this worker wrote since: ``{"host", "pid", "time", "meta", "files": {name:
{"offset", "data"}}}``; whole lines only, at most ``CHUNK`` bytes a file per answer.
The workers of one server share its port, so the caller polls on fresh connections and
each answer comes from whichever worker took it; the offsets it sends cover them all.
Without a token the path is the app's like any other; a wrong token gets 403.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from lagscope.harness.probe.inject.admin import authorized, read_body

from lagscope import rundir

Message = MutableMapping[str, Any]
FILES = (rundir.LAG, rundir.STALLS, rundir.GAUGES, rundir.GC)
CHUNK = 4 * 1024 * 1024  # per file per answer: a poll a second keeps far below it


def private_dir() -> str:
    """A temporary folder for this worker's probe files; the probe removes it when it stops,
    and exit does when the probe never stopped (a worker may end without its lifespan)."""
    path = tempfile.mkdtemp(prefix="lagscope-probe-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def read_new(path: Path, offset: int) -> tuple[int, str]:
    """Whole lines of ``path`` from byte ``offset`` on (at most CHUNK bytes): (offset, text)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read(CHUNK)
    except OSError:
        return offset, ""
    end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next poll
    return offset, chunk[:end].decode("utf-8", errors="replace")


def answer(worker_dir: Path, offsets: dict[str, Any]) -> dict[str, Any]:
    """This worker's answer to a caller at ``offsets`` (its entry for this pid, if any)."""
    pid = os.getpid()
    mine = offsets.get(str(pid)) or {}
    meta_path = worker_dir / rundir.META
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else None
    files = {}
    for name in FILES:
        start, text = read_new(worker_dir / name, int(mine.get(name, 0)))
        files[name] = {"offset": start, "data": text}
    return {"host": socket.gethostname(), "pid": pid, "time": time.time(), "meta": meta,
            "files": files, "exceptions": _whole(worker_dir / rundir.EXCEPTIONS)}  # fmt: skip


def _whole(path: Path) -> Any:
    """A file the probe rewrites whole (exceptions.json), as JSON; None before it exists."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


async def _reply(send: Callable[[Message], Awaitable[None]], status: int, data: Any) -> None:
    body = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def handle(
    token: str,
    run_dir: Path,
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Answer one request to the probe's data path."""
    if not authorized(scope, token):
        await _reply(send, 403, {"error": "Authorization: Bearer <probe token> required"})
        return
    if scope.get("method") != "POST":
        await _reply(send, 405, {"error": 'POST {"offsets": {...}}'})
        return
    body = await read_body(receive)
    try:
        offsets = json.loads(body or b"{}").get("offsets", {}) if body is not None else None
    except (ValueError, AttributeError):
        offsets = None
    if not isinstance(offsets, dict):
        await _reply(send, 422, {"error": 'body: expected {"offsets": {"<pid>": {...}}}'})
        return
    worker_dir = run_dir / rundir.WORKERS / str(os.getpid())
    await _reply(send, 200, answer(worker_dir, offsets))
