"""App-side gauges sampled on the worker's own loop: tasks, threadpool, DB pool, logging, RSS.

Every ``interval_s`` (default 500 ms) a task on the event loop reads:

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

It runs on the loop because ``all_tasks()`` and anyio's limiter belong to it.  One
sample costs ~200 µs, plus the walk of every pending task's await chain behind the
``tasks_wait_*`` and ``requests_wait_*`` columns: ~0.4 µs a link, so ~1.3 ms for 100
requests in flight 30 coroutines deep, ~5 ms for 400 (bounded by ``tasks.MAX_TASKS``).
That walk is paced (``TaskWalks``): it runs again only once ``WALK_BUDGET`` of the time
since the last one has paid for it, and at least every ``WALK_STALE_S``; rows in between
repeat the latest walk's sites and counts.  Every other column is read at every sample.
Rows are buffered and flushed once a second.
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
from lagscope.harness.probe.tasks import Site, wait_sites

from lagscope import rundir
from lagscope.appends import PendingLines

COLUMNS = list(rundir.GAUGE_COLUMNS)
FLUSH_EVERY_S = 1.0
SITES_KEPT = 5  # wait sites written per sample (tasks_wait_sites)
HELD_S = 2.0  # a session holding a connection this long holds it, not merely uses it
WALK_BUDGET = 0.001  # the share of the loop's time the walks of tasks' await chains take
# ...but a walk's sites are never older than this.  (It was 2 s: at the shop's saturation
# on half a core a walk of ~100 tasks took ~11 ms, so the cap, not the budget, set the
# pace, and the walks took ~0.5 % of the loop's time.)
WALK_STALE_S = 10.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident memory of this process in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def rss_mb() -> float:
    """Resident memory of this process in MB (10^6 bytes)."""
    return rss_bytes() / 1e6


class ResidentMemory:
    """``rss_mb`` from one open ``/proc/self/statm``: a reading is one ``pread``, not an
    open, a read and a close (open it in the process it measures: after a fork,
    ``/proc/self`` would still be the parent's)."""

    def __init__(self) -> None:
        self._fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)

    def mb(self) -> float:
        if self._fd is None:
            return rss_mb()
        return int(os.pread(self._fd, 128, 0).split()[1]) * _PAGE / 1e6

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def thread_limiter() -> tuple[int, int, int] | None:
    """(borrowed, total, waiting) of anyio's default thread limiter; call on the loop."""
    try:
        from anyio.to_thread import current_default_thread_limiter

        stats = current_default_thread_limiter().statistics()
    except Exception:  # no anyio, or not inside an async backend it knows
        return None
    return int(stats.borrowed_tokens), int(stats.total_tokens), int(stats.tasks_waiting)


def _site(filter_: FrameFilter, site: tuple[str, int, str]) -> str:
    return f"{filter_.location(site[0], site[1])} ({site[2]})"


def held_sites(frame_filter: FrameFilter) -> Counter[str]:
    """Where the sessions opened ``HELD_S`` or more ago and still holding a connection were
    opened: ``"path:line (function)"`` of the innermost user frame, counted."""
    sites: Counter[str] = Counter()
    for opened in hooks.held_since(HELD_S):
        frame, _ = frame_filter.blame(tuple(reversed(opened)))
        if frame is not None:
            sites[_site(frame_filter, frame)] += 1
    return sites


Walk = tuple[Counter[Site], Counter[tuple[str, Site]]]  # what tasks.wait_sites returns


class TaskWalks:
    """The walk of the pending tasks' await chains, paced: a walk that took ``d`` seconds
    is reused for the next ``d / budget`` seconds (at most ``stale_s``), so the walks take
    at most ``budget`` of the loop's time however many tasks are pending."""

    def __init__(
        self,
        *,
        budget: float = WALK_BUDGET,
        stale_s: float = WALK_STALE_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.budget = budget
        self.stale_s = stale_s
        self._clock = clock
        self._latest: Walk | None = None
        self._due = 0.0
        self.walks = 0

    def sites(
        self,
        tasks: set[asyncio.Task[Any]],
        is_user: Callable[[str], bool],
        endpoints: Mapping[CodeType, str] | None,
    ) -> Walk:
        started = self._clock()
        if self._latest is None or started >= self._due:
            self._latest = wait_sites(tasks, is_user, endpoints)
            self.walks += 1
            spent = self._clock() - started
            self._due = started + min(self.stale_s, spent / self.budget)
        return self._latest


def sample(
    frame_filter: FrameFilter,
    endpoints: Mapping[CodeType, str] | None = None,
    *,
    wall: Callable[[], float] = time.time,
    walks: TaskWalks | None = None,
    rss: Callable[[], float] = rss_mb,
) -> list[Any]:
    """One row of COLUMNS (call on the running loop); ``walks`` paces the walk of the
    tasks' await chains (without it, every sample walks them); ``rss`` reads the
    resident memory in MB."""
    hooks.install_sqlalchemy()  # no-op once installed, or while the app has not imported it
    tasks = asyncio.all_tasks()
    if walks is None:
        sites, requests = wait_sites(tasks, frame_filter.is_user, endpoints)
    else:
        sites, requests = walks.sites(tasks, frame_filter.is_user, endpoints)
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
        frame_filter.location(*log_top[0][0]) if log_top else "",
        round(rss(), 1),
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
        self.walks = TaskWalks()
        self._memory: ResidentMemory | None = None

    def start(self) -> None:
        self._memory = ResidentMemory()
        hooks.note_user_code(self.frame_filter.is_user)
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
            rss = self._memory.mb if self._memory is not None else rss_mb
            row = sample(self.frame_filter, self._endpoints(), walks=self.walks, rss=rss)
            self._lines.add(_csv_line(row))
            if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                last_flush = time.monotonic()
                self._lines.flush()  # whole rows or none; kept for later on a full disk

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        self._lines.flush()


def _csv_line(row: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue()
