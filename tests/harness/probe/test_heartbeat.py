"""The heartbeat's record of each beat, on a clock driven by hand."""

from __future__ import annotations

import asyncio

from lagscope.harness.probe.heartbeat import RECENT, Heartbeat


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_beat_records_how_late_it_woke() -> None:
    clock = Clock()
    beat = Heartbeat(interval_s=0.010, clock=clock, wall=clock)
    clock.now = 100.010
    beat.beat(100.010)  # on time
    clock.now = 100.130
    beat.beat(100.020)  # 110 ms late: a stall
    assert beat.beats == 2
    assert [round(lag, 3) for _, lag in beat.samples] == [0.0, 110.0]
    assert round(beat.last_lag_s, 3) == 0.110


def test_the_beat_that_ended_a_stall_is_found_after_later_beats() -> None:
    # The watchdog may get the CPU back only after the loop has beaten again: it must
    # read the lag of the beat that ended the stall, not the latest one.
    clock = Clock()
    beat = Heartbeat(interval_s=0.010, clock=clock, wall=clock)
    clock.now = 100.110
    beat.beat(100.010)  # beat 1 ends a 100 ms stall
    clock.now = 100.1203
    beat.beat(100.120)  # beat 2, on time
    assert round(beat.last_lag_s * 1000, 1) == 0.3
    assert round(beat.lag_of(1) or 0.0, 3) == 0.100
    assert beat.lag_of(3) is None  # not beaten yet


def test_only_recent_beats_are_kept() -> None:
    clock = Clock()
    beat = Heartbeat(interval_s=0.010, clock=clock, wall=clock)
    for _ in range(RECENT + 5):
        clock.now += 0.010
        beat.beat(clock.now)
    assert beat.lag_of(1) is None
    assert beat.lag_of(RECENT + 5) == 0.0


def test_a_block_before_the_beating_task_first_runs_is_a_late_first_beat() -> None:
    # A test's coroutine can block before it ever yields to the loop: the first beat is
    # due an interval after start(), however late the beating task gets to run.
    clock = Clock()
    beat = Heartbeat(interval_s=0.010, clock=clock, wall=clock)

    async def main() -> None:
        beat.start()
        clock.now += 0.060  # 60 ms of blocking before the first await
        for _ in range(100):  # the beat is overdue: it comes in the next iterations
            await asyncio.sleep(0)
            if beat.beats:
                break
        beat.stop()

    asyncio.run(main())
    assert round(beat.lag_of(1) or 0.0, 3) == 0.050


def test_beats_come_from_a_timer_not_a_task_and_stop_when_told() -> None:
    # A timer callback makes no future and resumes no coroutine at each beat, and adds no
    # task to what the tasks gauge counts.
    beat = Heartbeat(interval_s=0.005)

    async def main() -> tuple[int, int, int]:
        beat.start()
        await asyncio.sleep(0.1)
        tasks = len(asyncio.all_tasks())
        beat.stop()
        stopped_at = beat.beats
        await asyncio.sleep(0.05)
        return tasks, stopped_at, beat.beats

    tasks, stopped_at, later = asyncio.run(main())
    assert tasks == 1  # main() alone
    assert stopped_at >= 5
    assert later == stopped_at
