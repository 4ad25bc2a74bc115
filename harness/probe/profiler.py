"""A bounded profile of one worker: pyinstrument runs only inside a window the harness asks for.

pyinstrument's per-call hook slows a hello-world endpoint by about 60 %, so the whole
run must never be profiled: the harness writes ``profile-request.json`` (``start``
unix s, ``seconds``) into the run directory once the load runs, each worker polls for
it, profiles its loop thread for that window only and appends a ``profile_window``
event to ``events.jsonl``.  The reports leave every request that overlapped the
window out of the headline percentiles.

The window's recorded ``end`` is after the outputs are written, so the cost of
rendering them also falls inside the excluded window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from lagscope import rundir
from lagscope.appends import append_whole

POLL_S = 0.2


def read_request(run_dir: Path) -> dict[str, float] | None:
    """The harness's request ``{start, seconds}``, or None while there is none."""
    try:
        data = json.loads((run_dir / rundir.PROFILE_REQUEST).read_text(encoding="utf-8"))
        return {"start": float(data["start"]), "seconds": float(data["seconds"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _append_event(run_dir: Path, event: dict[str, Any]) -> None:
    line = json.dumps({"t": time.time(), "source": "probe", "event": "profile_window", **event})
    with contextlib.suppress(OSError):  # a full disk: the harness watches the space and says so
        append_whole(run_dir / rundir.EVENTS, (line + "\n").encode())


def _write_outputs(profiler: Any, worker_dir: Path) -> dict[str, str]:
    from pyinstrument.renderers import SpeedscopeRenderer

    worker_dir.mkdir(parents=True, exist_ok=True)
    html = worker_dir / rundir.PROFILE_HTML
    speedscope = worker_dir / "profile.speedscope.json"
    html.write_text(profiler.output_html(), encoding="utf-8")
    speedscope.write_text(profiler.output(renderer=SpeedscopeRenderer()), encoding="utf-8")
    return {"html": str(html.relative_to(worker_dir.parent.parent)),
            "speedscope": str(speedscope.relative_to(worker_dir.parent.parent))}  # fmt: skip


async def profile_when_asked(run_dir: Path, *, pid: int, interval_s: float = 0.001) -> None:
    """Wait for the harness's request, then profile this loop's thread for its window."""
    from pyinstrument import Profiler

    request = read_request(run_dir)
    while request is None:
        await asyncio.sleep(POLL_S)
        request = read_request(run_dir)
    await asyncio.sleep(max(request["start"] - time.time(), 0.0))
    # async_mode="disabled": sample whatever runs on the loop thread, not one task.
    profiler = Profiler(interval=interval_s, async_mode="disabled")
    start = time.time()
    profiler.start()
    files: dict[str, str] = {}
    try:
        await asyncio.sleep(request["seconds"])
    finally:
        profiler.stop()
        try:
            files = await asyncio.to_thread(
                _write_outputs, profiler, run_dir / rundir.WORKERS / str(pid)
            )
        finally:
            _append_event(
                run_dir,
                {"pid": pid, "start": start, "end": time.time(),
                 "interval_ms": interval_s * 1000.0, **files},
            )  # fmt: skip
