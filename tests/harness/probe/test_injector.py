"""The injector in one process: switching, the shared state, the admin path, db_latency,
the loop's own faults and their labels, and a clean app once it stops."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from lagscope.harness.probe.asgi import InstrumentedApp
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.inject import blockers, database, outbound
from lagscope.harness.probe.inject.injector import Injector, rss_mb
from lagscope.harness.probe.watchdog import build_stall_event
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from lagscope import rundir
from lagscope.injection import parse_spec

TOKEN = "s3cret"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _injector(run_dir: Path, **kwargs: object) -> Injector:
    return Injector(token=TOKEN, state_file=run_dir / rundir.INJECT, run_dir=run_dir, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    outbound.set_rules([], seed=0)
    database.set_rules([], seed=0)


def _records(run_dir: Path) -> list[dict[str, object]]:
    lines = [
        line
        for path in run_dir.glob(f"workers/*/{rundir.INJECTED}")
        for line in path.read_text().splitlines()
    ]
    return [json.loads(line) for line in lines]


async def test_a_switch_reaches_another_worker_through_the_state_file(tmp_path: Path) -> None:
    one, two = _injector(tmp_path), _injector(tmp_path)
    one.start()
    two.start()
    try:
        spec = parse_spec("dependency_latency host=example.test latency=50ms")
        one.switch([spec])
        assert one.active == (spec,)
        await asyncio.sleep(0.2)  # the follower looks every 50 ms
        assert two.active == (spec,)
        one.switch([])
        await asyncio.sleep(0.2)
        assert two.active == ()
    finally:
        one.stop()
        two.stop()
    actions = [(r["action"], r["kind"]) for r in _records(tmp_path)]
    assert Counter(actions) == {("on", "dependency_latency"): 2, ("off", "dependency_latency"): 2}


async def test_a_worker_started_late_joins_the_current_state(tmp_path: Path) -> None:
    first = _injector(tmp_path)
    first.start()
    spec = parse_spec("db_latency latency=10ms")
    first.switch([spec])
    late = _injector(tmp_path)
    late.start()
    try:
        assert late.active == (spec,)
    finally:
        first.stop()
        late.stop()


async def test_the_deadline_clears_every_fault_and_refuses_new_ones(tmp_path: Path) -> None:
    injector = _injector(tmp_path, deadline=time.time() + 0.2)
    injector.start()
    injector.switch([parse_spec("loop_block block=30ms every=1s")])
    await asyncio.sleep(0.4)
    assert injector.active == ()
    with pytest.raises(PermissionError):
        injector.switch([parse_spec("loop_block block=30ms every=1s")])
    injector.stop()
    assert "expired" in [r["action"] for r in _records(tmp_path)]


def _app(tmp_path: Path) -> InstrumentedApp:
    inner = FastAPI()

    @inner.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return InstrumentedApp(inner, None, injector=_injector(tmp_path))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c
    assert app.injector is not None
    app.injector.stop()


async def test_the_admin_path_needs_the_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(rundir.INJECT_PATH)).status_code == 403
    wrong = {"authorization": "Bearer nope"}
    assert (
        await client.put(rundir.INJECT_PATH, json={"faults": []}, headers=wrong)
    ).status_code == 403
    ok = await client.get(rundir.INJECT_PATH, headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.json()["faults"] == []
    assert (await client.get("/ping")).json() == {"ok": True}


async def test_the_admin_path_switches_and_says_what_is_wrong(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    table = {"kind": "dependency_latency", "host": "127.0.0.1:9", "latency": "1.5s"}
    put = await client.put(rundir.INJECT_PATH, json={"faults": [table, "db_latency latency=5ms"]},
                           headers=auth)  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["faults"] == [
        "dependency_latency host=127.0.0.1:9 latency=1.5s", "db_latency latency=5ms",
    ]  # fmt: skip
    state = json.loads((tmp_path / rundir.INJECT).read_text())
    assert [f["kind"] for f in state["faults"]] == ["dependency_latency", "db_latency"]
    missing = {"faults": [{"kind": "dependency_latency", "host": "x"}]}
    bad = await client.put(rundir.INJECT_PATH, headers=auth, json=missing)
    assert bad.status_code == 422
    assert (
        bad.json()["detail"]
        == "faults #1: dependency_latency needs latency (added delay, e.g. 1.5s)"
    )
    cleared = await client.put(rundir.INJECT_PATH, json={"faults": []}, headers=auth)
    assert cleared.json()["faults"] == []
    assert outbound.installed() == []


async def test_without_an_injector_the_admin_path_is_the_apps(tmp_path: Path) -> None:
    inner = FastAPI()
    app = InstrumentedApp(inner, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get(rundir.INJECT_PATH)).status_code == 404


async def test_db_latency_delays_matching_statements_of_an_async_engine(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            database.set_rules([parse_spec("db_latency latency=150ms pattern=^select")], seed=0)
            beats = 0

            async def beat() -> None:
                nonlocal beats
                while True:
                    await asyncio.sleep(0.01)
                    beats += 1

            ticker = asyncio.create_task(beat())
            start = time.perf_counter()
            await conn.execute(text("select 2"))
            slow = time.perf_counter() - start
            ticker.cancel()
            start = time.perf_counter()
            await conn.execute(text("pragma user_version"))
            fast = time.perf_counter() - start
    finally:
        database.set_rules([], seed=0)
        await engine.dispose()
    assert 0.15 <= slow < 0.25
    assert beats >= 8  # the loop went on while the statement waited: awaited, not slept
    assert fast < 0.05


def test_db_latency_delays_a_sync_engine_and_stops_listening_when_cleared(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as conn:
        database.set_rules([parse_spec("db_latency latency=100ms")], seed=0)
        start = time.perf_counter()
        conn.execute(text("select 1"))
        assert time.perf_counter() - start >= 0.1
        database.set_rules([], seed=0)
        start = time.perf_counter()
        conn.execute(text("select 1"))
        assert time.perf_counter() - start < 0.05
    engine.dispose()


def test_a_stall_in_an_injected_blocker_is_labelled_not_blamed(tmp_path: Path) -> None:
    blocker = blockers.injected_loop_block.__code__
    stack = (
        ("/usr/lib/python3.11/asyncio/events.py", 80, "_run"),
        (blocker.co_filename, blocker.co_firstlineno + 2, "injected_loop_block"),
        ("/usr/lib/python3.11/time.py", 1, "sleep"),
    )
    event = build_stall_event(
        Counter({(stack, None): 5}), start=0.0, duration_ms=100.0, lag_ms=95.0,
        cpu_share=0.01, frame_filter=FrameFilter.for_root(tmp_path),
    )  # fmt: skip
    assert event["location"] == "<injected loop_block>"
    assert event["in_user_code"] is False
    assert event["injected"] == "loop_block"


async def test_loop_block_blocks_for_the_asked_time_at_the_asked_rhythm() -> None:
    lags: list[float] = []

    async def watch() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - t - 0.005)

    watcher = asyncio.create_task(watch())
    blocker = asyncio.create_task(
        blockers.run_loop_block(parse_spec("loop_block block=60ms every=200ms"))
    )
    await asyncio.sleep(1.05)
    blocker.cancel()
    watcher.cancel()
    blocks = [lag for lag in lags if lag > 0.03]
    assert len(blocks) == 5, blocks
    assert all(0.055 <= b <= 0.08 for b in blocks), blocks


async def test_memory_leak_grows_at_the_rate_and_is_released_when_cleared(tmp_path: Path) -> None:
    injector = _injector(tmp_path, memory_cap_mb=rss_mb() + 500)
    injector.start()
    gc.collect()  # this suite's own garbage, freed during the second, would offset the RSS
    before = rss_mb()
    injector.switch([parse_spec("memory_leak rate=100MB/s")])
    await asyncio.sleep(1.0)
    held, grown = injector.held_mb, rss_mb() - before
    injector.switch([])
    await asyncio.sleep(0.05)
    after = rss_mb() - before
    injector.stop()
    assert 80 <= held <= 120, held  # on schedule: 100 MB a second
    # RSS here is this test process's, whose allocator reuses memory earlier tests freed
    # (CI saw it grow 39-44 MB for 100 held): a worker's RSS growth at the asked rate is
    # measured end to end (tests/e2e/test_inject_e2e.py).  Cleared, it is all let go.
    assert grown <= held + 20, (grown, held)
    assert injector.held_mb == 0
    assert after < 20, after


async def test_memory_leak_stops_at_the_cap(tmp_path: Path) -> None:
    cap = rss_mb() + 30
    injector = _injector(tmp_path, memory_cap_mb=cap)
    injector.start()
    injector.switch([parse_spec("memory_leak rate=200MB/s")])
    await asyncio.sleep(0.6)
    try:
        assert cap <= rss_mb() <= cap + 25
    finally:
        injector.stop()
    assert "capped" in [r["action"] for r in _records(tmp_path)]
