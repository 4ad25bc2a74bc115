"""The probe's app-side gauges on real parts: a real SQLAlchemy pool, logging, anyio, tasks."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from lagscope.harness.probe import hooks
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.gauges import COLUMNS, GaugeSampler, sample, thread_limiter
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
