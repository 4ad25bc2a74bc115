"""One test's loop under the probe's heartbeat and watchdog (real loops, real blocks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.testing.watch import LoopWatch, unsampled

HERE = Path(__file__).resolve()
ROOT = HERE.parents[3]  # the repository: locations are relative to it
LOOPS = pytest.mark.parametrize(
    "loop_factory", [None, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)
Body = Callable[[], Coroutine[Any, Any, None]]


def block_for(seconds: float) -> None:
    time.sleep(seconds)  # BLOCK_LINE


def block_line() -> str:
    lines = HERE.read_text().splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.endswith("# BLOCK_LINE"))
    return f"tests/harness/testing/test_watch.py:{number}"


def watched(
    body: Body, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None
) -> list[dict[str, Any]]:
    """Run ``body`` as the plugin runs a test: under a LoopWatch; return its stalls."""

    async def main() -> list[dict[str, Any]]:
        watch = LoopWatch(
            threshold_ms=20.0, interval_ms=10.0, frame_filter=FrameFilter.for_root(ROOT)
        )
        watch.start()
        await body()
        return await watch.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


@LOOPS
def test_a_block_in_the_tests_last_statement_is_measured_to_its_end(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
) -> None:
    async def body() -> None:
        await asyncio.sleep(0.03)
        block_for(0.08)  # nothing after it: close() must let the loop end the stall

    (stall,) = watched(body, loop_factory)
    assert (stall["location"], stall["function"], stall["cause"]) == (
        block_line(), "block_for", "wait"
    )  # fmt: skip
    assert stall["duration_ms"] >= 70.0, stall


@LOOPS
def test_a_block_before_the_first_await_is_measured(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
) -> None:
    async def body() -> None:
        block_for(0.08)  # before the heartbeat's task has ever run

    (stall,) = watched(body, loop_factory)
    assert stall["location"] == block_line()
    assert stall["duration_ms"] >= 70.0, stall


@LOOPS
def test_awaiting_and_the_threadpool_are_no_stall(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
) -> None:
    async def body() -> None:
        await asyncio.gather(*(asyncio.sleep(0.05) for _ in range(20)))
        await asyncio.to_thread(block_for, 0.08)  # blocking, but off the loop

    stalls = watched(body, loop_factory)
    # A machine busy elsewhere (or a garbage collection) can stall the loop while it waits,
    # honestly recorded, on no line of ours; counting the 130 ms of awaiting as a stall
    # would blame this test's lines, or add up to about that long.
    assert [s["location"] for s in stalls if s["in_user_code"]] == []
    assert sum(s["duration_ms"] for s in stalls) < 100.0, stalls


def test_a_late_beat_no_stall_accounts_for_is_a_stall_without_a_location() -> None:
    recorded = [{"lag_ms": 30.0, "start": 99.0}]
    late = [(100.0, 30.0), (200.0, 45.0)]  # (unix s, lag ms): the first was sampled
    (event,) = unsampled(late, recorded, interval_ms=10.0)
    assert (event["location"], event["cause"], event["samples"]) == (None, None, 0)
    assert event["duration_ms"] == 50.0  # the lag and half an interval, as the watchdog has it
    assert event["start"] == pytest.approx(200.0 - 0.050)
