"""The faults the injector itself runs on the worker's loop: ``loop_block``, ``cpu_burn``,
``memory_leak``.  Each is one task, cancelled when the fault is cleared.

The functions that block are named ``injected_<kind>``: the watchdog finds them on a
stalled stack and labels the stall ``<injected <kind>>`` instead of blaming whatever
library frame happened to run it (``inject.labels``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from lagscope.injection import Injection

TICK_S = 0.1  # memory_leak allocates this often
CHUNK_MB = 2.0  # and in pieces of at most this (over malloc's mmap threshold: freed at once)


def injected_loop_block(seconds: float) -> None:
    """SEEDED: a blocking call on the loop thread (a wait, as blocking I/O would be)."""
    time.sleep(seconds)


def injected_cpu_burn(seconds: float) -> None:
    """SEEDED: compute on the loop thread for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(200))


def injected_memory_leak(retained: list[bytes], nbytes: int) -> None:
    """Retain ``nbytes`` more (written, so the pages are resident)."""
    retained.append(b"\x5a" * nbytes)


async def run_loop_block(injection: Injection) -> None:
    """Block the loop for ``block`` at the start of every ``every``."""
    block_s = float(injection.params["block_ms"]) / 1000.0
    every_s = float(injection.params["every_ms"]) / 1000.0
    next_at = time.monotonic() + every_s
    while True:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        injected_loop_block(block_s)
        next_at += every_s
        if next_at < time.monotonic():  # the loop was late: keep the rhythm, skip a beat
            next_at = time.monotonic() + every_s


async def run_cpu_burn(injection: Injection) -> None:
    """Compute for ``share`` of every ``period``, in one piece at the start of each."""
    period_s = float(injection.params["period_ms"]) / 1000.0
    burn_s = float(injection.params["share"]) * period_s
    next_at = time.monotonic() + period_s
    while True:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        injected_cpu_burn(burn_s)
        next_at += period_s
        if next_at < time.monotonic():
            next_at = time.monotonic() + period_s


async def run_memory_leak(
    injection: Injection,
    retained: list[bytes],
    *,
    cap_mb: float,
    rss_mb: Callable[[], float],
    on_cap: Callable[[float], None],
) -> None:
    """Retain ``rate`` MB per second (on schedule: what was asked by now, less what is
    held) until the worker's RSS reaches the cap; then hold what it has."""
    rate = float(injection.params["rate_mb_s"])
    limit = float(injection.params.get("limit_mb") or 0.0)
    cap = min(cap_mb, limit) if limit else cap_mb
    start = time.monotonic()
    held_mb = 0.0
    while True:
        await asyncio.sleep(TICK_S)
        if rss_mb() >= cap:
            on_cap(cap)
            return
        due_mb = rate * (time.monotonic() - start) - held_mb
        while due_mb >= 0.1:
            piece = min(due_mb, CHUNK_MB)
            injected_memory_leak(retained, int(piece * 1e6))
            held_mb += piece
            due_mb -= piece
