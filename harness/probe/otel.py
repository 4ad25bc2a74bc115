"""The probe's instruments through OpenTelemetry (the ``lagscope[otel]`` extra).

``instrument(app, otel=True)`` records the same measurements as the Prometheus
instruments into a ``Meter`` of the app's MeterProvider (the global one unless one is
given): the loop-lag histogram, the stall counters by location/endpoint/cause (bounded
the same way), the app-side gauges as observable instruments, the garbage collector's
pauses by generation, the exceptions that escape the app by type and location (bounded
the same way), and HTTP request durations under OTel's semantic conventions.  Whatever
exporter the app configured (OTLP, Prometheus) sends them; each worker exports its own
(``worker``: its pid), so several workers need no shared directory.

The gauges are read on the loop (``metrics_gauges.GaugeLoop``) and observed from the
last reading: the SDK's reader thread calls the callbacks, while anyio's limiter and
``all_tasks()`` belong to the loop.
"""

from __future__ import annotations

import collections
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping
from types import CodeType
from typing import Any

from lagscope.harness.probe.http_metrics import METHODS, route_of
from lagscope.harness.probe.metrics import StallLabels
from lagscope.harness.probe.metrics_gauges import GaugeReading
from lagscope.harness.probe.sink import LagRow, drain

from lagscope import metric_names as names
from lagscope.errors import MetricsSetupError

Read = Callable[[GaugeReading], Iterable[tuple[float, dict[str, str]]]]  # values, attributes


def otel_meter(provider: Any | None) -> Any:
    """A Meter named ``lagscope`` from ``provider`` (None: the global MeterProvider)."""
    try:
        from opentelemetry import metrics
    except ImportError as exc:
        raise MetricsSetupError(
            "instrument(app, otel=True) needs OpenTelemetry: pip install 'lagscope[otel]'"
        ) from exc
    try:
        version = importlib.metadata.version("lagscope")
    except importlib.metadata.PackageNotFoundError:
        version = None
    source = provider if provider is not None else metrics.get_meter_provider()
    return source.get_meter("lagscope", version)


class OtelProbe:
    """The OpenTelemetry instruments of one worker: a watchdog sink, a request observer
    and a gauge publisher in one."""

    def __init__(self, meter: Any, *, worker: str, stall_locations: int) -> None:
        from opentelemetry.metrics import Observation

        self._observation = Observation
        self.worker = {names.WORKER: worker}
        self._labels = StallLabels(stall_locations)
        self._reading: GaugeReading | None = None
        self._lag = meter.create_histogram(
            names.OTEL_LOOP_LAG, unit="s", description="How late the heartbeat woke",
            explicit_bucket_boundaries_advisory=list(names.LAG_BUCKETS_S),
        )  # fmt: skip
        self._stalls = meter.create_counter(
            names.OTEL_LOOP_STALLS, unit="{stall}", description="Event-loop stalls"
        )
        self._blocked = meter.create_counter(
            names.OTEL_LOOP_BLOCKED, unit="s", description="Seconds the loop was stalled"
        )
        self._http = meter.create_histogram(
            names.OTEL_HTTP_DURATION, unit="s", description="Duration of HTTP server requests",
            explicit_bucket_boundaries_advisory=list(names.HTTP_BUCKETS_S),
        )  # fmt: skip
        self._gc = meter.create_histogram(
            names.OTEL_GC_PAUSE, unit="s",
            description="How long each garbage collection held the GIL, by generation",
            explicit_bucket_boundaries_advisory=list(names.GC_BUCKETS_S),
        )  # fmt: skip
        self._unhandled = meter.create_counter(
            names.OTEL_UNHANDLED, unit="{exception}",
            description="Exceptions that escaped the app, by type and the line that raised them",
        )  # fmt: skip
        gauges: list[tuple[str, str, Read]] = [
            (names.OTEL_TASKS_PENDING, "{task}", lambda r: [(r.tasks, {})]),
            (names.OTEL_THREADPOOL_BUSY, "{thread}", lambda r: self._threads(r, 0)),
            (names.OTEL_THREADPOOL_TOTAL, "{thread}", lambda r: self._threads(r, 1)),
            (names.OTEL_THREADPOOL_WAITING, "{call}", lambda r: self._threads(r, 2)),
            (names.OTEL_DB_CHECKED_OUT, "{connection}", lambda r: self._pools(r, 1)),
            (names.OTEL_DB_SIZE, "{connection}", lambda r: self._pools(r, 2)),
            (names.OTEL_DB_WAITING, "{call}", lambda r: self._pools(r, 3)),
            (names.OTEL_RSS, "By", lambda r: [(r.rss_bytes, {})]),
        ]  # fmt: skip
        for name, unit, read in gauges:
            meter.create_observable_gauge(name, callbacks=[self._callback(read)], unit=unit)
        for name, unit, read in (
            (names.OTEL_LOG_RECORDS, "{record}", lambda r: [(r.log_records, {})]),
            (names.OTEL_LOG_BYTES, "By", lambda r: [(r.log_bytes, {})]),
        ):
            meter.create_observable_counter(name, callbacks=[self._callback(read)], unit=unit)

    @staticmethod
    def _threads(reading: GaugeReading, index: int) -> list[tuple[float, dict[str, str]]]:
        return [] if reading.threads is None else [(reading.threads[index], {})]

    @staticmethod
    def _pools(reading: GaugeReading, index: int) -> list[tuple[float, dict[str, str]]]:
        return [(float(pool[index]), {names.ENGINE: pool[0]}) for pool in reading.pools]

    def _callback(self, read: Read) -> Callable[[Any], list[Any]]:
        def observe(options: Any) -> list[Any]:
            reading = self._reading
            if reading is None:
                return []
            return [self._observation(v, {**self.worker, **a}) for v, a in read(reading)]

        return observe

    # Sink (the watchdog thread)
    def flush_lag(self, samples: collections.deque[LagRow]) -> None:
        record = self._lag.record
        for _, lag_ms in drain(samples):
            record(lag_ms / 1000.0, self.worker)

    def write_stall(self, event: dict[str, Any]) -> None:
        seconds = float(event["duration_ms"]) / 1000.0
        attributes = {
            names.LOCATION: self._labels.location(event.get("location"), seconds),
            names.ENDPOINT: event.get("endpoint") or names.UNKNOWN,
            names.CAUSE: event.get("cause") or names.UNKNOWN,
        }
        self._stalls.add(1, attributes)
        self._blocked.add(seconds, attributes)

    def close(self) -> None:
        pass

    # Pause recorder (``metrics_gauges.GcPauses``, the loop)
    def record_pause(self, generation: int, seconds: float) -> None:
        self._gc.record(seconds, {**self.worker, names.GENERATION: str(generation)})

    def flush_pauses(self) -> None:
        pass

    # Escaped exceptions (``unhandled.UnhandledLog``'s ``on_kind``, the loop)
    def count_unhandled(self, kind: str, site: str) -> None:
        attributes = {names.EXCEPTION_TYPE: kind, names.LOCATION: site or names.UNKNOWN}
        self._unhandled.add(1, {**self.worker, **attributes})

    # Gauge publisher (the loop)
    def publish(self, reading: GaugeReading) -> None:
        self._reading = reading

    # Request observer (the loop)
    def observe_request(
        self, scope: Mapping[str, Any], status: int, seconds: float,
        endpoints: Mapping[CodeType, str],
    ) -> None:  # fmt: skip
        method = str(scope.get("method", "GET")).upper()
        self._http.record(seconds, {
            names.OTEL_HTTP_METHOD: method if method in METHODS else "_OTHER",
            names.OTEL_HTTP_ROUTE: route_of(scope, endpoints),
            names.OTEL_HTTP_STATUS: status,
        })  # fmt: skip
