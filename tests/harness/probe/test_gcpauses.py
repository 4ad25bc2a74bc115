"""The probe times every garbage collection (gc.callbacks) into gc.csv."""

from __future__ import annotations

import _thread
import asyncio
import collections
import csv
import gc
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.gcpauses import GcLog, GcTimer, rows, user_line

from lagscope import rundir


def ticks(*values: float) -> Iterator[float]:
    yield from values


def test_a_collection_is_timed_from_its_start_to_its_stop_with_an_injected_clock() -> None:
    clock, wall, cpu = ticks(10.0, 10.042), ticks(1_800_000_000.5), ticks(3.0, 3.030)
    timer = GcTimer(
        loop_thread_id=threading.get_ident(), clock=lambda: next(clock), wall=lambda: next(wall),
        cpu=lambda: next(cpu),
    )  # fmt: skip
    timer.callback("start", {"generation": 2, "collected": 0, "uncollectable": 0})
    timer.callback("stop", {"generation": 2, "collected": 1234, "uncollectable": 1})
    ((t, gen, ms, cpu_ms, collected, uncollectable, on_loop, site),) = timer.collections
    assert (t, gen, collected, uncollectable, on_loop) == (1_800_000_000.5, 2, 1234, 1, True)
    assert site == ""  # no frame filter: no line noted
    assert abs(ms - 42.0) < 1e-9
    assert abs(cpu_ms - 30.0) < 1e-9  # 12 ms of it the machine held the collector up


def test_a_collection_in_another_thread_is_marked_off_the_loop() -> None:
    timer = GcTimer(loop_thread_id=-1)
    timer.install()
    try:
        gc.collect(1)
    finally:
        timer.uninstall()
    assert timer.callback not in gc.callbacks
    assert 1 in [c[1] for c in timer.collections]
    assert not any(c[6] for c in timer.collections)


def test_rows_drain_the_pending_collections_as_csv_lines() -> None:
    timer = GcTimer(loop_thread_id=threading.get_ident())
    timer.install()
    try:
        gc.collect()
    finally:
        timer.uninstall()
    text = rows(timer.collections)
    assert not timer.collections
    line = text.splitlines()[-1]  # the explicit full collection (an automatic one may precede)
    t, gen, ms, cpu_ms, collected, uncollectable, on_loop, site = line.split(",")
    assert site == ""
    assert (gen, on_loop) == ("2", "1")
    assert float(ms) > 0
    assert float(cpu_ms) >= 0
    assert int(collected) >= 0
    assert int(uncollectable) >= 0
    assert float(t) > 0


def collect_here() -> int:
    gc.collect()
    return sys._getframe().f_lineno - 1


def test_a_collection_as_long_as_the_threshold_notes_the_users_line_it_began_at() -> None:
    user = FrameFilter.build(folders=[Path(__file__).parent])
    timer = GcTimer(loop_thread_id=threading.get_ident(), site=user_line(user), site_after_ms=0)
    timer.install()
    try:
        line = collect_here()
    finally:
        timer.uninstall()
    assert timer.collections[-1][7] == f"test_gcpauses.py:{line}"


def test_a_shorter_collection_or_one_outside_the_users_code_notes_no_line() -> None:
    user = FrameFilter.build(folders=[Path(__file__).parent])
    short = GcTimer(loop_thread_id=threading.get_ident(), site=user_line(user), site_after_ms=1e6)
    elsewhere = GcTimer(
        loop_thread_id=threading.get_ident(),
        site=user_line(FrameFilter.build(packages=["nothing_here"])), site_after_ms=0,
    )  # fmt: skip
    for timer in (short, elsewhere):
        timer.install()
        try:
            collect_here()
        finally:
            timer.uninstall()
        assert timer.collections[-1][7] == ""


def test_a_noted_line_with_a_comma_is_quoted_as_csv_quotes(tmp_path: Path) -> None:
    pending = collections.deque([(1.5, 2, 30.0, 29.0, 7, 0, True, 'a,b"c.py:3')])
    path = tmp_path / rundir.GC
    path.write_text(",".join(rundir.GC_COLUMNS) + "\n" + rows(pending), encoding="utf-8")
    with path.open(encoding="utf-8") as f:
        (row,) = csv.DictReader(f)
    assert (row["site"], row["on_loop"]) == ('a,b"c.py:3', "1")


def test_the_log_writes_every_collection_to_gc_csv_from_the_loop(tmp_path: Path) -> None:
    path = tmp_path / rundir.GC

    async def main() -> None:
        log = GcLog(path, loop_thread_id=threading.get_ident())
        log.start()
        for gen in (0, 1, 2):
            gc.collect(gen)
        await asyncio.sleep(0)
        log.stop()
        gc.collect()  # after stop: not recorded

    asyncio.run(main())
    with path.open(encoding="utf-8") as f:
        found = list(csv.DictReader(f))
    assert list(found[0]) == list(rundir.GC_COLUMNS)
    assert [row["generation"] for row in found][-3:] == ["0", "1", "2"]


def test_a_collection_with_no_python_frame_below_the_callback_notes_no_line() -> None:
    # As for a collection the interpreter starts from C: the callback's frame is the only
    # one (``_thread`` calls it from C).  Raising there would lose the row.
    user = FrameFilter.build(folders=[Path(__file__).parent])
    timer = GcTimer(loop_thread_id=threading.get_ident(), site=user_line(user), site_after_ms=0)
    info = {"generation": 2, "collected": 0, "uncollectable": 0}
    timer.callback("start", info)
    _thread.start_new_thread(timer.callback, ("stop", info))
    deadline = time.monotonic() + 10.0
    while not timer.collections and time.monotonic() < deadline:
        time.sleep(0.01)
    ((*_, site),) = timer.collections
    assert site == ""
