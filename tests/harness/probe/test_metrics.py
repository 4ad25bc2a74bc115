"""The probe's Prometheus metrics in-process: the app served through httpx's ASGI
transport, scraped at /metrics, the text parsed by prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from lagscope.harness.probe import exposition
from lagscope.harness.probe.asgi import InstrumentedApp, instrument
from lagscope.harness.probe.metrics import MetricsSink, StallLabels, instruments
from prometheus_client.parser import text_string_to_metric_families

from lagscope import metric_names as names
from lagscope.errors import UsageError

ROOT = Path(__file__).resolve().parents[3]
SEEDED_LINE = next(
    n
    for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
    if "SEEDED: blocks the loop" in text and "next(" not in text
)

RAISED_LINE = next(
    n
    for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
    if "RAISED: escapes the app" in text and "next(" not in text
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/fail")
    async def fail() -> None:
        raise RuntimeError("seeded")  # RAISED: escapes the app

    @app.get("/block")
    async def block() -> dict[str, bool]:
        time.sleep(0.06)  # noqa: ASYNC251  # SEEDED: blocks the loop
        return {"blocked": True}

    return app


@asynccontextmanager
async def served(app: InstrumentedApp) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (the probe starts and stops with it)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: Any) -> None:
        await outbox.put(dict(message))

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                   inbox.get, send))  # fmt: skip
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://t",
        ) as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.mark.anyio
async def test_requests_are_counted_by_route_template_and_status(anyio_backend: str) -> None:
    app = instrument(make_app(), metrics_path="/metrics")
    async with served(app) as client:
        before = (await client.get("/metrics")).text
        for n in range(3):
            await client.get(f"/items/{n}")
        await client.get("/fail")
        await client.get("/nowhere")
        after = (await client.get("/metrics")).text

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    req = names.HTTP_REQUESTS
    assert delta(req, method="GET", route="/items/{item_id}", status="200") == 3
    assert delta(req, method="GET", route="/fail", status="500") == 1
    assert delta(req, method="GET", route="unmatched", status="404") == 1
    assert delta(req, method="GET", route="/metrics", status="200") == 0  # scrapes not counted
    count = f"{names.HTTP_DURATION}_count"
    assert delta(count, method="GET", route="/items/{item_id}") == 3


@pytest.mark.anyio
async def test_an_exception_that_escapes_is_counted_at_the_line_that_raised_it(
    anyio_backend: str,
) -> None:
    # In production there is no run directory: the metric says what escaped, and where.
    app = instrument(make_app(), metrics_path="/metrics", app_root=ROOT)
    async with served(app) as client:
        before = samples((await client.get("/metrics")).text)  # (the process's counters)
        for _ in range(2):
            assert (await client.get("/fail")).status_code == 500
        after = samples((await client.get("/metrics")).text)
    grown = {key: v - before.get(key, 0.0) for key, v in after.items()}
    (labels,) = [dict(labels) for (name, labels), n in grown.items()
                 if name == names.UNHANDLED and n == 2]  # fmt: skip
    assert labels["type"] == "RuntimeError"
    assert labels["location"] == f"tests/harness/probe/test_metrics.py:{RAISED_LINE}"


def lag_counted(text: str) -> bool:
    return any(v > 0 for (name, _), v in samples(text).items() if name == f"{names.LOOP_LAG}_count")


@pytest.mark.anyio
async def test_a_stall_is_counted_at_its_line_with_endpoint_and_cause(anyio_backend: str) -> None:
    app = instrument(make_app(), metrics_path="/metrics", app_root=ROOT)
    async with served(app) as client:
        await client.get("/block")
        # The watchdog records the stall when the loop is back, and hands the heartbeat's
        # lags over once a second: scrape until both are there (at most a few seconds).
        for _ in range(40):
            await asyncio.sleep(0.1)
            text = (await client.get("/metrics")).text
            if f"{names.LOOP_LAG}_count" in text and lag_counted(text):
                break
    stalls = {
        dict(labels)["location"]: (dict(labels), v)
        for (name, labels), v in samples(text).items()
        if name == names.LOOP_STALLS and v > 0
    }
    location = f"tests/harness/probe/test_metrics.py:{SEEDED_LINE}"
    assert location in stalls, stalls
    labels, _ = stalls[location]
    assert labels["endpoint"] == "GET /block"
    assert labels["cause"] == "wait"
    lag_count = sum(v for (name, _), v in samples(text).items()
                    if name == f"{names.LOOP_LAG}_count")  # fmt: skip
    assert lag_count > 0


@pytest.mark.anyio
async def test_every_metric_of_the_contract_is_exported(anyio_backend: str) -> None:
    app = instrument(make_app(), metrics_path="/metrics")
    async with served(app) as client:
        await client.get("/items/1")
        gc.collect()  # a collection to time
        await asyncio.sleep(1.2)  # the gauges' next reading
        text = (await client.get("/metrics")).text
    found = {name for name, _ in samples(text)}
    missing = names.scraped_names() - found - {
        names.LOOP_STALLS, names.LOOP_BLOCKED,  # no stall yet in this app
        names.UNHANDLED,  # no exception yet
        names.DB_CHECKED_OUT, names.DB_SIZE, names.DB_WAITING,  # no pool seen yet
    }  # fmt: skip
    assert missing == set()


@pytest.mark.anyio
async def test_a_scrape_answers_prometheus_text_and_openmetrics(anyio_backend: str) -> None:
    app = instrument(make_app())  # no run directory: metrics at the default path
    assert app.metrics_path == "/metrics"
    async with served(app) as client:
        plain = await client.get("/metrics")
        open_metrics = await client.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        )
        refused = await client.post("/metrics")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")
    assert refused.status_code == 405


def test_a_metrics_path_must_be_a_path() -> None:
    with pytest.raises(UsageError, match="must be a path starting with '/'"):
        instrument(make_app(), metrics_path="metrics")


def test_stall_locations_are_the_heaviest_by_blocked_time() -> None:
    labels = StallLabels(2)
    seen = [labels.location(loc, s) for loc, s in
            (("a.py:1", 0.03), ("b.py:2", 0.05), ("c.py:3", 0.02), ("a.py:1", 0.03))]  # fmt: skip
    assert seen == ["a.py:1", "b.py:2", "other", "a.py:1"]
    assert labels.location(None) == "unknown"


def test_a_location_that_rises_later_takes_the_place_of_the_lightest() -> None:
    labels = StallLabels(2)
    assert labels.location("startup.py:1", 0.02) == "startup.py:1"  # start-up's stalls
    assert labels.location("startup.py:2", 0.03) == "startup.py:2"
    assert labels.location("fault.py:31", 0.03) == "other"  # not yet twice the lightest
    assert labels.location("fault.py:31", 0.03) == "fault.py:31"  # 0.06 > 2 x 0.02
    assert labels.location("startup.py:1", 0.001) == "other"  # displaced (the lightest)
    assert labels.location("startup.py:2", 0.001) == "startup.py:2"


def test_scattered_noise_creates_a_bounded_number_of_names() -> None:
    labels = StallLabels(3)
    for n in range(2000):
        labels.location(f"noise.py:{n % 500}", 0.01 + (n % 7) * 0.005)
    assert len(labels.named) <= 12
    assert len(labels.tally) <= 12
    assert len(labels.placed) == 3


def test_the_sink_counts_stalls_outside_the_top_as_other() -> None:
    m = instruments()
    sink = MetricsSink(m, stall_locations=1, worker="test-sink")
    other = m.stalls.labels("other", "GET /x", "cpu")
    before = other._value.get()
    for location, ms in (("first.py:1", 90.0), ("second.py:2", 30.0), ("third.py:3", 30.0)):
        sink.write_stall({"location": location, "endpoint": "GET /x", "cause": "cpu",
                          "duration_ms": ms})  # fmt: skip
    assert other._value.get() - before == 2
    sink.flush_lag(collections.deque([(0.0, 5.0), (0.0, 50.0)]))
    lag = m.lag.labels("test-sink")
    assert lag._sum.get() == pytest.approx(0.055)


class Server:
    """Stands where uvicorn's Server stands on a worker's stack (its module is set below)."""

    def __init__(self, workers: int, reload: bool = False) -> None:
        self.config = type("Config", (), {"workers": workers, "reload": reload})()

    def import_app(self) -> int | None:
        return exposition.server_workers()

    def check(self) -> Any:
        return exposition.check_setup("/metrics")


Server.__module__ = "uvicorn.server"


def test_the_number_of_workers_is_read_from_the_server_on_the_stack() -> None:
    assert Server(4).import_app() == 4
    assert Server(4, reload=True).import_app() == 1
    assert exposition.server_workers() is None  # pytest: no server


def test_several_workers_without_the_directory_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(names.MULTIPROC_ENV, raising=False)
    error = Server(2).check()
    assert "runs in 2 worker processes without PROMETHEUS_MULTIPROC_DIR" in str(error)
    assert Server(1).check() is None
    monkeypatch.setenv(names.MULTIPROC_ENV, str(tmp_path))
    assert Server(2).check() is None
    monkeypatch.setenv(names.MULTIPROC_ENV, str(tmp_path / "missing"))
    assert "is not a directory" in str(Server(1).check())


def test_dead_workers_are_marked_and_live_ones_kept(tmp_path: Path) -> None:
    dead = 2**22 + 7  # above the default pid_max: never a running process
    for pid in (dead, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    assert exposition.mark_dead_workers(str(tmp_path)) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        f"counter_{dead}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"
    ])  # fmt: skip
