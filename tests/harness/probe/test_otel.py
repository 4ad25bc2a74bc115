"""The same instruments through OpenTelemetry: an SDK MeterProvider with an in-memory
reader, the app served in-process, what the reader collects."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from lagscope.harness.probe.asgi import instrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from lagscope import metric_names as names
from tests.harness.probe.test_metrics import RAISED_LINE, ROOT, SEEDED_LINE, make_app, served


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def collected(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: list(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


@pytest.mark.anyio
async def test_otel_records_the_same_instruments(anyio_backend: str) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    app = instrument(make_app(), otel=True, meter_provider=provider, app_root=ROOT)
    assert app.metrics_path is None  # OpenTelemetry only: no /metrics
    async with served(app) as client:
        for n in range(3):
            await client.get(f"/items/{n}")
        await client.get("/block")
        for _ in range(2):
            assert (await client.get("/fail")).status_code == 500
        gc.collect()  # a full collection to time
        await asyncio.sleep(1.3)  # a second gauge reading, a lag batch from the watchdog
        missing = await client.get("/metrics")
    found = collected(reader)
    provider.shutdown()
    assert missing.status_code == 404
    expected = {
        names.OTEL_LOOP_LAG, names.OTEL_LOOP_STALLS, names.OTEL_LOOP_BLOCKED,
        names.OTEL_TASKS_PENDING, names.OTEL_THREADPOOL_BUSY, names.OTEL_THREADPOOL_TOTAL,
        names.OTEL_THREADPOOL_WAITING, names.OTEL_LOG_RECORDS, names.OTEL_LOG_BYTES,
        names.OTEL_RSS, names.OTEL_HTTP_DURATION, names.OTEL_GC_PAUSE, names.OTEL_UNHANDLED,
    }  # fmt: skip
    assert expected - set(found) == set()
    routes = {(p.attributes[names.OTEL_HTTP_ROUTE], p.attributes[names.OTEL_HTTP_STATUS]): p.count
              for p in found[names.OTEL_HTTP_DURATION]}  # fmt: skip
    assert routes[("/items/{item_id}", 200)] == 3
    stalls = {p.attributes[names.LOCATION]: p for p in found[names.OTEL_LOOP_STALLS]}
    seeded = stalls[f"tests/harness/probe/test_metrics.py:{SEEDED_LINE}"]
    assert seeded.attributes[names.ENDPOINT] == "GET /block"
    lag = found[names.OTEL_LOOP_LAG][0]
    assert lag.count > 0
    assert list(lag.explicit_bounds) == list(names.LAG_BUCKETS_S)
    pauses = {p.attributes[names.GENERATION]: p for p in found[names.OTEL_GC_PAUSE]}
    assert pauses["2"].count >= 1
    assert list(pauses["2"].explicit_bounds) == list(names.GC_BUCKETS_S)
    (escaped,) = found[names.OTEL_UNHANDLED]
    assert escaped.value == 2
    assert escaped.attributes[names.EXCEPTION_TYPE] == "RuntimeError"
    assert escaped.attributes[names.LOCATION] == (
        f"tests/harness/probe/test_metrics.py:{RAISED_LINE}"
    )


def test_without_the_extra_the_error_says_what_to_install() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['opentelemetry'] = None  # not installed\n"
        "from lagscope import instrument\n"
        "async def app(scope, receive, send): pass\n"
        "instrument(app, otel=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert "pip install 'lagscope[otel]'" in done.stderr
