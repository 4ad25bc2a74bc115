"""The loop-lag heartbeat: a timer callback due every interval, which records how late it ran.

It relies on nothing but ``loop.call_later``, so it measures asyncio and uvloop alike
(uvloop's C handles cannot be patched, so no per-callback hook is used).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import sys
import time
from collections.abc import Callable

from lagscope.harness.probe.frames import CodePath, loop_base

RECENT = 1024  # beats kept for ``lag_of``: ten seconds at the default 10 ms interval
# The loop thread's own scheduler figures (CPU ns, ns waiting on a run queue, timeslices):
# read at every beat (~4 µs), so the wait for a CPU inside a stall is known to the beat.
SCHEDSTAT = "/proc/thread-self/schedstat"


class Heartbeat:
    """Beats every ``interval_s`` on the running loop; ``samples`` holds ``(unix_t, lag_ms)``.

    The watchdog thread reads ``last_beat`` (perf-counter seconds) and ``beats``; it
    never writes them.  ``samples`` is a deque so another thread may pop from it.
    """

    def __init__(
        self,
        *,
        interval_s: float,
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._wall = wall
        self.samples: collections.deque[tuple[float, float]] = collections.deque()
        # (beat number, lag s, the loop thread's run-queue wait so far s or None) of the latest
        # beats, so the watchdog can look up the beat that ended a stall even when it wakes
        # after more beats have followed it, and how long the thread waited for a CPU.
        self.recent: collections.deque[tuple[int, float, float | None]] = collections.deque(
            maxlen=RECENT
        )
        self._schedstat: int | None = None  # the loop thread's schedstat, open while beating
        # Called after each beat with its time (the watchdog's alarm, pushed back; alarm.py).
        self.on_beat: Callable[[float], None] | None = None
        self.last_beat = clock()
        self.last_lag_s = 0.0
        self.beats = 0
        # The frames that drive the loop (known once the first callback runs): a sample of
        # the loop thread showing only these is the loop between callbacks (the watchdog's).
        self.loop_base: CodePath = ()
        self._expected = self.last_beat + interval_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.Handle | None = None

    def start(self) -> None:
        """Start beating on the running loop (call on the loop's thread)."""
        self.last_beat = self._clock()
        # Due an interval after start(), not after the loop first gets to the beat: code
        # that blocks before it ever yields (a test's first statements) is a stall like
        # any other.
        self._expected = self.last_beat + self.interval_s
        with contextlib.suppress(OSError):  # no /proc (or no schedstat): waits unknown
            self._schedstat = os.open(SCHEDSTAT, os.O_RDONLY)  # this, the loop's, thread
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._first)

    def stop(self) -> None:
        """Stop beating (call on the loop's thread)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()
        fd, self._schedstat = self._schedstat, None
        if fd is not None:
            os.close(fd)

    def _first(self) -> None:
        # The frames under a callback: what a sample of the loop between callbacks shows.
        self.loop_base = loop_base(sys._getframe(1))
        self._schedule()

    def _schedule(self) -> None:
        if self._loop is not None and self._handle is not None:
            delay = max(0.0, self._expected - self._clock())
            self._handle = self._loop.call_later(delay, self._on_time)

    def _on_time(self) -> None:
        # A timer callback, not a task sleeping in a loop: a beat makes no future and
        # resumes no coroutine, so it costs the loop one timer handle and this call.
        self.beat(self._expected)
        self._expected = expected = self.last_beat + self.interval_s
        if self._loop is not None and self._handle is not None:  # _schedule(), inline
            self._handle = self._loop.call_later(max(0.0, expected - self._clock()), self._on_time)

    def _waited_s(self) -> float | None:
        """Seconds the loop thread has waited for a CPU since it started (None: unknown)."""
        if self._schedstat is None:
            return None
        try:
            return int(os.pread(self._schedstat, 64, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def beat(self, expected: float) -> None:
        """Record one beat that was due at ``expected`` (perf-counter seconds)."""
        now = self._clock()
        lag = max(0.0, now - expected)
        self.samples.append((self._wall(), lag * 1000.0))
        self.last_lag_s = lag
        self.last_beat = now
        self.recent.append((self.beats + 1, lag, self._waited_s()))
        # Written last: the watchdog treats a change of ``beats`` as "the loop is back".
        self.beats += 1
        on_beat = self.on_beat
        if on_beat is not None:
            on_beat(now)

    def lag_of(self, number: int) -> float | None:
        """The lag (s) of beat ``number`` (the first beat is 1), if it is still recent."""
        for seen, lag, _ in reversed(list(self.recent)):  # list(): one copy under the GIL
            if seen == number:
                return lag
        return None

    def cpu_wait(self, number: int) -> float | None:
        """Seconds the loop thread waited for a CPU between beat ``number - 1`` and beat
        ``number`` (the stall that beat ended, and the sleep before it), if known."""
        waited = {seen: w for seen, _, w in list(self.recent)}
        before, after = waited.get(number - 1), waited.get(number)
        return None if before is None or after is None else max(0.0, after - before)
