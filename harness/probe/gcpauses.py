"""Every collection of the garbage collector, timed: ``workers/<pid>/gc.csv``.

A collection holds the GIL from start to end, so the event loop stalls for as long as it
runs, whichever thread triggered it; a full collection (generation 2) walks every
tracked object of the heap and takes tens of milliseconds on a large one.  The watchdog
cannot sample the loop meanwhile (it needs the GIL too): it only sees the line that ran
next, if it gets the GIL before the loop is done with the request, which is a race.
Timing each collection through ``gc.callbacks`` lets the report put such a stall on the
collector instead, and the callback names the line that set it off: a collection as long
as the stall threshold notes the innermost user frame of the thread it ran in (the
allocation that crossed the collector's threshold), read where it stands, with no race.

The callback appends one tuple per collection (two reads each of the wall clock and of
the thread's CPU clock, no I/O; the frame walk only for a long collection); a task on the
loop writes them out once a second.  The CPU time tells a collection that worked from
one the machine held up (preempted while holding the GIL: on a busy machine a young
collection of a millisecond can last 100).
``benchmarks/gc_callback.py`` measures the cost.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import math
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from lagscope.harness.probe.frames import FrameFilter, capture

from lagscope import rundir
from lagscope.appends import PendingLines

FLUSH_EVERY_S = 1.0
MAX_PENDING = 200_000  # collections kept while the writer is late (never reached in practice)

# (start unix s, generation, duration ms, CPU ms, collected, uncollectable, on the loop
# thread, the user's line it began at: "path:line", "" when not noted)
Collection = tuple[float, int, float, float, int, int, bool, str]
Site = Callable[[FrameType | None], str]


def user_line(frame_filter: FrameFilter) -> Site:
    """The innermost frame of the user's code at ``frame`` or below it, as the watchdog
    names a stall's location (``path:line``); "" when no frame there is the user's."""

    def site(frame: FrameType | None) -> str:
        blamed, in_user_code = frame_filter.blame(capture(frame)[0])
        if blamed is None or not in_user_code:
            return ""
        return frame_filter.location(blamed[0], blamed[1])

    return site


class GcTimer:
    """Times each collection into ``collections`` through ``callback``, the function it puts
    in ``gc.callbacks``."""

    def __init__(
        self,
        *,
        loop_thread_id: int,
        site: Site | None = None,
        site_after_ms: float = math.inf,
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
        cpu: Callable[[], float] = time.thread_time,
    ) -> None:
        """``site`` names the line a collection of ``site_after_ms`` or longer began at."""
        self.loop_thread_id = loop_thread_id
        self.collections: collections.deque[Collection] = collections.deque(maxlen=MAX_PENDING)
        self.callback = _timing(
            self.collections.append, loop_thread_id, site=site, site_after_ms=site_after_ms,
            clock=clock, wall=wall, cpu=cpu,
        )  # fmt: skip

    def install(self) -> None:
        if self.callback not in gc.callbacks:
            gc.callbacks.append(self.callback)

    def uninstall(self) -> None:
        if self.callback in gc.callbacks:
            gc.callbacks.remove(self.callback)


def _timing(
    append: Callable[[Collection], None],
    loop_thread_id: int,
    *,
    site: Site | None,
    site_after_ms: float,
    clock: Callable[[], float],
    wall: Callable[[], float],
    cpu: Callable[[], float],
) -> Callable[[str, dict[str, int]], None]:
    """The callback: a closure over locals, about twice as fast as a method (it runs twice
    per collection, hundreds of times a second in a busy worker)."""
    get_ident = threading.get_ident
    get_frame = sys._getframe
    # Collections never nest and never run in two threads at once (the GIL is held from
    # "start" to "stop"), so one set of cells is enough.
    started = [0.0, 0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = wall()
            started[2] = cpu()
            started[1] = clock()
            return
        ended = clock()
        ms = (ended - started[1]) * 1000.0
        # The frame below this callback's is the code that was running when the collection
        # began (its allocation set it off); it has not moved since.  ``f_back``, not
        # ``_getframe(1)``: a collection C code starts with no Python frame below (the
        # interpreter's own at exit) has none, and must not raise here.
        where = site(get_frame().f_back) if site is not None and ms >= site_after_ms else ""
        append((
            started[0], info["generation"], ms, (cpu() - started[2]) * 1000.0,
            info["collected"], info["uncollectable"], get_ident() == loop_thread_id, where,
        ))  # fmt: skip

    return callback


def rows(pending: collections.deque[Collection]) -> str:
    """Move every collection out of ``pending`` into CSV lines (GC_COLUMNS)."""
    lines = []
    while True:
        try:
            t, gen, ms, cpu_ms, collected, uncollectable, on_loop, site = pending.popleft()
        except IndexError:
            break
        if "," in site or '"' in site:  # a path may hold either: quoted as CSV quotes
            site = '"' + site.replace('"', '""') + '"'
        lines.append(
            f"{t:.6f},{gen},{ms:.3f},{cpu_ms:.3f},{collected},{uncollectable},{int(on_loop)},"
            f"{site}\n"
        )
    return "".join(lines)


class GcLog:
    """Times collections (``GcTimer``) and appends them to ``gc.csv`` once a second from a
    task on the worker's loop; whole rows or none (a full disk keeps them for the next
    flush, lagscope.appends).  A collection of ``site_after_ms`` or longer (the stall
    threshold) gets the user's line it began at, through ``frame_filter``."""

    def __init__(
        self,
        path: Path,
        *,
        loop_thread_id: int,
        frame_filter: FrameFilter | None = None,
        site_after_ms: float = math.inf,
    ) -> None:
        self.path = path
        self.timer = GcTimer(
            loop_thread_id=loop_thread_id,
            site=None if frame_filter is None else user_line(frame_filter),
            site_after_ms=site_after_ms,
        )
        self._lines = PendingLines(path)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if not self.path.exists() or not self.path.stat().st_size:
            self._lines.add(",".join(rundir.GC_COLUMNS) + "\n")
        self._lines.flush()
        self.timer.install()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lagscope-gc")

    def flush(self) -> None:
        self._lines.add(rows(self.timer.collections))
        self._lines.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.flush()

    def stop(self) -> None:
        self.timer.uninstall()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()
