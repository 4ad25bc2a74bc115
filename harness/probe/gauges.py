"""App-side gauges sampled on the worker's own loop: tasks, threadpool, DB pool, logging, RSS.

Every ``interval_s`` (default 250 ms) a task on the event loop reads:

    tasks            pending asyncio tasks (``asyncio.all_tasks()``)
    tasks_wait_top   where most of the pending tasks wait (innermost user frame), and how many
    tasks_wait_sites the ``SITES_KEPT`` sites most tasks wait at, with their counts (JSON), so
                     a slow leak at one site is followed even while requests outnumber it
    requests_wait_*  the same over the tasks that serve a request, with that request's endpoint
    threads_*        anyio's default thread limiter (FastAPI's threadpool): busy, total, waiting
    db_*             SQLAlchemy queue pools: checked out, capacity, callers waiting; of the
                     sessions opened ``HELD_S`` or more ago and still in a transaction
                     (holding a connection), where most were opened (innermost user
                     frame), and how many
    log_*            log records handled and bytes formatted so far (cumulative), top source
    rss_mb           resident memory of the worker

It runs on the loop because ``all_tasks()`` and anyio's limiter belong to it; one
sample costs tens of microseconds (more with thousands of tasks, bounded by
``tasks.MAX_TASKS``).  Rows are buffered and flushed once a second.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import CodeType
from typing import Any

from lagscope.harness.probe import hooks
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.tasks import wait_sites

from lagscope import rundir
from lagscope.appends import PendingLines

COLUMNS = list(rundir.GAUGE_COLUMNS)
FLUSH_EVERY_S = 1.0
SITES_KEPT = 5  # wait sites written per sample (tasks_wait_sites)
HELD_S = 2.0  # a session holding a connection this long holds it, not merely uses it
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident memory of this process in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def rss_mb() -> float:
    """Resident memory of this process in MB (10^6 bytes)."""
    return rss_bytes() / 1e6


def thread_limiter() -> tuple[int, int, int] | None:
    """(borrowed, total, waiting) of anyio's default thread limiter; call on the loop."""
    try:
        from anyio.to_thread import current_default_thread_limiter

        stats = current_default_thread_limiter().statistics()
    except Exception:  # no anyio, or not inside an async backend it knows
        return None
    return int(stats.borrowed_tokens), int(stats.total_tokens), int(stats.tasks_waiting)


def _site(filter_: FrameFilter, site: tuple[str, int, str]) -> str:
    return f"{filter_.relative(site[0])}:{site[1]} ({site[2]})"


def held_sites(frame_filter: FrameFilter) -> Counter[str]:
    """Where the sessions opened ``HELD_S`` or more ago and still holding a connection were
    opened: ``"path:line (function)"`` of the innermost user frame, counted."""
    sites: Counter[str] = Counter()
    for opened in hooks.held_since(HELD_S):
        frame, _ = frame_filter.blame(tuple(reversed(opened)))
        if frame is not None:
            sites[_site(frame_filter, frame)] += 1
    return sites


def sample(
    frame_filter: FrameFilter,
    endpoints: Mapping[CodeType, str] | None = None,
    *,
    wall: Callable[[], float] = time.time,
) -> list[Any]:
    """One row of COLUMNS (call on the running loop)."""
    hooks.install_sqlalchemy()  # no-op once installed, or while the app has not imported it
    tasks = asyncio.all_tasks()
    sites, requests = wait_sites(tasks, frame_filter.is_user, endpoints)
    kept = sites.most_common(SITES_KEPT)
    top = kept[:1]
    req = requests.most_common(1)
    threads = thread_limiter() or ("", "", "")
    checked_out, capacity, waiting, dialects = hooks.pool_figures()
    held = held_sites(frame_filter)
    held_top = held.most_common(1)
    log_top = hooks.LOGS.sources.most_common(1)
    return [
        round(wall(), 3), len(tasks),
        _site(frame_filter, top[0][0]) if top else "", top[0][1] if top else 0,
        json.dumps({_site(frame_filter, site): n for site, n in kept}) if kept else "",
        req[0][0][0] if req else "", _site(frame_filter, req[0][0][1]) if req else "",
        req[0][1] if req else 0,
        *threads,
        checked_out if dialects else "", capacity if dialects else "",
        waiting if dialects else "", dialects,
        held_top[0][0] if held_top else "", held_top[0][1] if held_top else 0,
        hooks.LOGS.records, hooks.LOGS.bytes,
        f"{frame_filter.relative(log_top[0][0][0])}:{log_top[0][0][1]}" if log_top else "",
        round(rss_mb(), 1),
    ]  # fmt: skip


class GaugeSampler:
    """Samples the gauges on the running loop into ``workers/<pid>/gauges.csv``."""

    def __init__(
        self,
        path: Path,
        *,
        interval_s: float,
        frame_filter: FrameFilter,
        endpoints: Callable[[], Mapping[CodeType, str]] = dict,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self.frame_filter = frame_filter
        self._endpoints = endpoints
        self._lines = PendingLines(path)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        hooks.install_sqlalchemy()
        hooks.install_logging()
        if not self.path.exists() or not self.path.stat().st_size:
            self._lines.add(_csv_line(COLUMNS))
        self._lines.flush()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lagscope-gauges")

    async def _run(self) -> None:
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(self.interval_s)
            self._lines.add(_csv_line(sample(self.frame_filter, self._endpoints())))
            if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                last_flush = time.monotonic()
                self._lines.flush()  # whole rows or none; kept for later on a full disk

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._lines.flush()


def _csv_line(row: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue()
