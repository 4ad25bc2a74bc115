"""One test's loop under the probe's heartbeat and watchdog, its stalls kept in memory.

The same ``Heartbeat`` and ``Watchdog`` as in a server worker, started on the test's own
running loop (asyncio or uvloop) for the time the test's coroutine runs; instead of a
worker's files (``probe.recorder``) the stall events go to a list.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from typing import Any

from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.heartbeat import Heartbeat
from lagscope.harness.probe.watchdog import Watchdog

from lagscope import defaults

SETTLE_S = 1.0  # at most this long for the beat that ends a stall the test ended in


class MemorySink:
    """What the watchdog measured during one test: its stall events, and the lag of every
    beat later than the threshold (to find a stall the watchdog could not sample)."""

    def __init__(self, *, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        self.stalls: list[dict[str, Any]] = []
        self.late: list[tuple[float, float]] = []  # (unix s, lag ms) of the late beats

    def flush_lag(self, samples: collections.deque[tuple[float, float]]) -> None:
        while True:
            try:
                t, lag_ms = samples.popleft()
            except IndexError:
                return
            if lag_ms > self.threshold_ms:
                self.late.append((t, lag_ms))

    def write_stall(self, event: dict[str, Any]) -> None:
        self.stalls.append(event)

    def close(self) -> None:
        """Nothing to close: the events stay in memory."""


def unsampled(
    late: list[tuple[float, float]], stalls: list[dict[str, Any]], *, interval_ms: float
) -> list[dict[str, Any]]:
    """Stall events for the late beats no recorded stall accounts for.

    The watchdog wakes when a late beat crosses the threshold; a stall that ends within a
    fraction of a millisecond of it (or while the machine keeps the watchdog thread off
    the CPU) is over before it is sampled.  The heartbeat still saw it: its duration is
    known (estimated as the watchdog does), its location and cause are not.
    """
    recorded = collections.Counter(stall["lag_ms"] for stall in stalls)
    events: list[dict[str, Any]] = []
    for t, lag_ms in late:
        key = round(lag_ms, 3)  # as the watchdog rounds the lag of the beat it followed
        if recorded[key] > 0:
            recorded[key] -= 1
            continue
        duration_ms = lag_ms + interval_ms / 2
        events.append(
            {
                "start": round(t - duration_ms / 1000.0, 6),
                "duration_ms": round(duration_ms, 3),
                "lag_ms": key,
                "samples": 0,
                "cpu_share": None,
                "cause": None,
                "location": None,
                "function": None,
                "in_user_code": False,
                "endpoint": None,
                "stacks": [],
            }
        )
    return events


class LoopWatch:
    """Heartbeat + watchdog on the running loop, for one test: ``start()`` before the test's
    coroutine, ``await close()`` after it for the stalls seen (``stop()`` when the loop
    must not be awaited on: the test was cancelled or interrupted)."""

    def __init__(
        self,
        *,
        threshold_ms: float,
        interval_ms: float,
        frame_filter: FrameFilter,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.threshold_ms = threshold_ms
        self.interval_ms = interval_ms
        self.sink = MemorySink(threshold_ms=threshold_ms)
        self.heartbeat = Heartbeat(interval_s=interval_ms / 1000.0, clock=clock)
        self._clock = clock
        self._frame_filter = frame_filter
        self._watchdog: Watchdog | None = None

    def start(self) -> None:
        """Start beating on the running loop and watching from a thread (call in a coroutine)."""
        self.heartbeat.start()
        self._watchdog = Watchdog(
            self.heartbeat,
            self.sink,
            loop_thread_id=threading.get_ident(),
            loop_native_id=threading.get_native_id(),
            threshold_s=self.threshold_ms / 1000.0,
            sample_s=defaults.PROBE_SAMPLE_MS / 1000.0,
            frame_filter=self._frame_filter,
            endpoints=dict,
        )
        self._watchdog.start()

    async def close(self) -> list[dict[str, Any]]:
        """``stop()`` once the loop has ended any stall the test ended in.

        If a beat is overdue, the loop beats once more first: a stall in the test's last
        statements is then measured to its end, not cut short (and lost) by ``stop()``.
        """
        hb = self.heartbeat
        beats = hb.beats
        if self._clock() > hb.last_beat + hb.interval_s:
            deadline = self._clock() + SETTLE_S
            while self._clock() < deadline:  # not an Event: the beat is due, not awaited
                await asyncio.sleep(0)
                if hb.beats != beats:
                    break
        return self.stop()

    def stop(self) -> list[dict[str, Any]]:
        """Stop watching and beating; return the stall events of the test, sampled or not,
        in the order they happened."""
        if self._watchdog is not None:
            # Watchdog first: a heartbeat that stops beating would look like a stall.
            self._watchdog.stop()
            self._watchdog = None
        self.heartbeat.stop()
        found = self.sink.stalls + unsampled(
            self.sink.late, self.sink.stalls, interval_ms=self.interval_ms
        )
        return sorted(found, key=lambda stall: float(stall["start"]))
