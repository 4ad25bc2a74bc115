"""The probe's app-side gauges on real parts: a real SQLAlchemy pool, logging, anyio, tasks."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from lagscope.harness.probe import hooks
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.gauges import (
    COLUMNS,
    GaugeSampler,
    TaskWalks,
    sample,
    thread_limiter,
)
from lagscope.harness.probe.tasks import wait_sites
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker, create_async_engine

HERE = Path(__file__).resolve()
ROOT = HERE.parents[3]


def test_pool_gauges_count_checked_out_connections_and_waiters(tmp_path: Path) -> None:
    hooks.install_sqlalchemy()
    gc.collect()
    base_out, base_cap, base_wait, _ = hooks.pool_figures()

    async def main() -> tuple[int, int, int, str]:
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
            pool_size=2, max_overflow=1, pool_timeout=5,
        )  # fmt: skip
        held: list[AsyncConnection] = []
        for _ in range(3):
            conn = await engine.connect()
            await conn.execute(text("select 1"))
            held.append(conn)

        async def connect() -> AsyncConnection:
            return await engine.connect()

        waiter = asyncio.create_task(connect())
        await asyncio.sleep(0.2)
        figures = hooks.pool_figures()
        await held.pop().close()
        held.append(await waiter)
        for conn in held:
            await conn.close()
        await engine.dispose()
        return figures

    out, cap, waiting, dialects = asyncio.run(main())
    assert (out - base_out, cap - base_cap, waiting - base_wait) == (3, 3, 1)
    assert "sqlite" in dialects.split("+")


def test_a_held_connection_is_traced_to_the_line_that_opened_its_session(tmp_path: Path) -> None:
    hooks.install_sqlalchemy()
    frame_filter = FrameFilter.for_root(ROOT)

    def opened_where() -> set[str]:
        blamed = [frame_filter.blame(tuple(reversed(o)))[0] for o in hooks.held_since(0.0)]
        return {f"{frame_filter.relative(f[0])}:{f[1]}" for f in blamed if f is not None}

    async def main() -> tuple[set[str], set[str]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
        sessions = async_sessionmaker(engine)
        session = sessions()  # OPENED_HERE
        await session.execute(text("select 1"))  # checks a connection out and holds it
        while_held = opened_where()
        await session.close()
        after_close = opened_where()
        await engine.dispose()
        return while_held, after_close

    while_held, after_close = asyncio.run(main())
    line = next(n for n, text_ in enumerate(HERE.read_text().splitlines(), 1)
                if text_.rstrip().endswith("# OPENED_HERE"))  # fmt: skip
    assert while_held == {f"tests/harness/probe/test_gauges.py:{line}"}
    assert after_close == set()  # checked in: no longer held


def test_where_a_session_opened_is_kept_down_to_the_first_user_frame(tmp_path: Path) -> None:
    # Frames past the one a report blames are not walked: each f_back makes a frame object.
    frame_filter = FrameFilter.for_root(ROOT)
    hooks.install_sqlalchemy()
    hooks.note_user_code(frame_filter.is_user)

    async def main() -> list[tuple[str, int, str]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
        session = async_sessionmaker(engine)()  # OPENED_AND_KEPT
        opened = hooks.opened_at(session.sync_session)
        assert opened is not None
        kept = hooks.raw_frames(opened[0])
        await session.close()
        await engine.dispose()
        return list(kept)

    try:
        kept = asyncio.run(main())
    finally:
        hooks.note_user_code(None)  # OPENED_DEPTH frames again, for other tests
    line = next(n for n, text_ in enumerate(HERE.read_text().splitlines(), 1)
                if text_.rstrip().endswith("# OPENED_AND_KEPT"))  # fmt: skip
    assert kept[-1] == (str(HERE), line, "main")  # the walk ended at the user's frame
    assert 1 < len(kept) < hooks.OPENED_DEPTH  # SQLAlchemy's frames before it, nothing after
    assert not any(frame_filter.is_user(filename) for filename, _, _ in kept[:-1])


def test_log_hook_counts_records_and_bytes_written() -> None:
    hooks.install_logging()
    log = logging.getLogger("lagscope.test.flood")
    log.addHandler(logging.StreamHandler(io.StringIO()))
    log.setLevel(logging.DEBUG)
    log.propagate = False
    records, nbytes = hooks.LOGS.records, hooks.LOGS.bytes
    for _ in range(10):
        log.debug("x" * 99)
    log.debug("filtered out below the level? no: counted too")
    logging.getLogger("lagscope.test.quiet").debug("below WARNING: never becomes a record")
    assert hooks.LOGS.records - records == 11
    assert (
        hooks.LOGS.bytes - nbytes
        == 10 * 100 + len("filtered out below the level? no: counted too") + 1
    )


async def parked(event: asyncio.Event) -> None:
    await event.wait()  # WAIT_LINE


def test_wait_sites_name_the_user_line_pending_tasks_wait_at() -> None:
    line = next(
        n for n, src in enumerate(HERE.read_text().splitlines(), 1) if src.endswith("# WAIT_LINE")
    )

    async def main() -> dict[tuple[str, int, str], int]:
        event = asyncio.Event()
        tasks = [asyncio.create_task(parked(event)) for _ in range(5)]
        await asyncio.sleep(0)
        sites, _ = wait_sites(asyncio.all_tasks(), FrameFilter.for_root(ROOT).is_user)
        event.set()
        await asyncio.gather(*tasks)
        return dict(sites)

    assert asyncio.run(main())[(str(HERE), line, "parked")] == 5


def test_thread_limiter_reports_busy_threads_of_anyios_default_pool() -> None:
    async def main() -> tuple[int, int, int] | None:
        calls = [asyncio.create_task(anyio.to_thread.run_sync(time.sleep, 0.3)) for _ in range(3)]
        await asyncio.sleep(0.1)
        stats = thread_limiter()
        await asyncio.gather(*calls)
        return stats

    assert asyncio.run(main()) == (3, 40, 0)


def test_sampler_writes_every_column_to_gauges_csv(tmp_path: Path) -> None:
    path = tmp_path / "gauges.csv"

    async def main() -> None:
        sampler = GaugeSampler(path, interval_s=0.05, frame_filter=FrameFilter.for_root(ROOT))
        sampler.start()
        await asyncio.sleep(0.3)
        sampler.stop()

    asyncio.run(main())
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS
    assert len(rows) >= 3
    assert all(int(row["threads_total"]) == 40 and float(row["rss_mb"]) > 10 for row in rows)


def test_a_sample_counts_the_tasks_at_each_of_the_top_wait_sites() -> None:
    line = next(
        n for n, src in enumerate(HERE.read_text().splitlines(), 1) if src.endswith("# WAIT_LINE")
    )
    frame_filter = FrameFilter.for_root(ROOT)

    async def main() -> list[Any]:
        event = asyncio.Event()
        tasks = [asyncio.create_task(parked(event)) for _ in range(7)]
        await asyncio.sleep(0)
        row = sample(frame_filter)
        event.set()
        await asyncio.gather(*tasks)
        return row

    row = dict(zip(COLUMNS, asyncio.run(main()), strict=True))
    site = f"{frame_filter.relative(str(HERE))}:{line} (parked)"
    assert json.loads(row["tasks_wait_sites"])[site] == 7  # and the running main() at its line
    assert row["tasks_wait_top"] == site


class Clock:
    """Reads advance it by 1 ms: a walk between two reads "takes" 1 ms."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        now = self.t
        self.t += 0.001
        return now


def test_the_walk_of_the_tasks_is_reused_until_the_budget_has_paid_for_it() -> None:
    # A 1 ms walk at a 1 % budget is reused for the next 100 ms: of samples 25 ms apart,
    # the first walks, the next three reuse it, the fifth (at 105 ms) walks again.
    clock = Clock()
    walks = TaskWalks(budget=0.01, stale_s=2.0, clock=clock)
    seen = []
    for _ in range(8):
        seen.append(walks.sites(set(), lambda f: True, None))
        clock.t += 0.025
    assert walks.walks == 2
    assert all(walk is seen[0] for walk in seen[:4])
    assert all(walk is seen[4] and walk is not seen[0] for walk in seen[4:])


def test_a_costly_walk_is_never_reused_for_longer_than_stale_s() -> None:
    # At a 0.1 % budget a 1 ms walk would be reused for 1 s; stale_s caps that at 0.5 s.
    clock = Clock()
    walks = TaskWalks(budget=0.001, stale_s=0.5, clock=clock)
    first = walks.sites(set(), lambda f: True, None)  # reads 0 and 1 ms: due at 0.5 s
    clock.t = 0.498
    assert walks.sites(set(), lambda f: True, None) is first
    clock.t = 0.5
    assert walks.sites(set(), lambda f: True, None) is not first
    assert walks.walks == 2


def test_the_lines_of_where_a_session_opened_are_the_frames_own_lines() -> None:
    # _opened_here keeps (code, offset) pairs; raw_frames names them later, as f_lineno would.
    def noted() -> tuple[hooks.Opened, list[tuple[str, int, str]]]:
        return inner()

    def inner() -> tuple[hooks.Opened, list[tuple[str, int, str]]]:
        return hooks._opened_here(depth=3), seen(sys._getframe(1))

    def seen(frame: Any) -> list[tuple[str, int, str]]:
        frames = []
        for _ in range(3):
            frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
            frame = frame.f_back
        return frames

    hooks.note_user_code(None)  # another test's probe may have noted its user code
    opened, expected = (lambda: noted())()
    assert list(hooks.raw_frames(opened)) == expected
