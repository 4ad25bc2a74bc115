"""The app-side gauges for metrics backends: read on the worker's loop every second.

One reading (pending tasks, anyio's threadpool, each SQLAlchemy pool by ``engine``, log
records and bytes so far, RSS) is taken on the loop (``all_tasks()`` and anyio's limiter
belong to it) and handed to each publisher: ``PromGauges`` sets the Prometheus gauges
(and first flushes the requests counted since the last reading); the OpenTelemetry
publisher keeps it for its observable instruments.  Only the cheap readings of
``gauges.sample`` are taken (no walk of the tasks' await chains).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from lagscope.harness.probe import hooks
from lagscope.harness.probe.gauges import rss_bytes, thread_limiter
from lagscope.harness.probe.gcpauses import GcTimer
from lagscope.harness.probe.metrics import HistogramBatch, Instruments

from lagscope import defaults
from lagscope import metric_names as names

Pool = tuple[str, int, int, int]  # engine, checked out, capacity, waiting


@dataclass(frozen=True)
class GaugeReading:
    tasks: int
    threads: tuple[int, int, int] | None  # busy, total, waiting
    pools: list[Pool] = field(default_factory=list)
    log_records: int = 0  # cumulative, since the process started
    log_bytes: int = 0
    rss_bytes: int = 0


def read_gauges() -> GaugeReading:
    """Every gauge once (call on the running loop)."""
    hooks.install_sqlalchemy()  # no-op once installed, or while the app has not imported it
    return GaugeReading(
        tasks=len(asyncio.all_tasks()),
        threads=thread_limiter(),
        pools=hooks.pools_by_engine(),
        log_records=hooks.LOGS.records,
        log_bytes=hooks.LOGS.bytes,
        rss_bytes=rss_bytes(),
    )


class Publisher(Protocol):
    def publish(self, reading: GaugeReading) -> None: ...


class PromGauges:
    """Sets the per-worker Prometheus gauges from each reading."""

    def __init__(
        self,
        instruments: Instruments,
        *,
        worker: str,
        stall_threshold_s: float,
        flush: Callable[[], None] | None = None,
    ) -> None:
        self.m = instruments
        self.worker = worker
        self._flush = flush
        self._logs = (hooks.LOGS.records, hooks.LOGS.bytes)
        self.m.threshold.labels(worker).set(stall_threshold_s)

    def publish(self, reading: GaugeReading) -> None:
        m, w = self.m, self.worker
        if self._flush is not None:
            self._flush()
        m.tasks.labels(w).set(reading.tasks)
        if reading.threads is not None:
            busy, total, waiting = reading.threads
            m.threads_busy.labels(w).set(busy)
            m.threads_total.labels(w).set(total)
            m.threads_waiting.labels(w).set(waiting)
        for engine, checked_out, capacity, waiting in reading.pools:
            m.db_checked_out.labels(w, engine).set(checked_out)
            m.db_size.labels(w, engine).set(capacity)
            m.db_waiting.labels(w, engine).set(waiting)
        m.log_records.labels(w).inc(max(reading.log_records - self._logs[0], 0))
        m.log_bytes.labels(w).inc(max(reading.log_bytes - self._logs[1], 0))
        self._logs = (reading.log_records, reading.log_bytes)
        m.rss.labels(w).set(reading.rss_bytes)

    def close(self) -> None:
        if self._flush is not None:
            self._flush()


class PauseRecorder(Protocol):
    """Where ``GcPauses`` puts each collection's pause (a metrics backend)."""

    def record_pause(self, generation: int, seconds: float) -> None: ...
    def flush_pauses(self) -> None: ...


class PromPauses:
    """The Prometheus histogram of pauses by generation, batched between readings."""

    def __init__(self, instruments: Instruments, *, worker: str) -> None:
        self._batches = [
            HistogramBatch(instruments.gc_pause.labels(worker, str(g)), names.GC_BUCKETS_S)
            for g in range(3)
        ]

    def record_pause(self, generation: int, seconds: float) -> None:
        self._batches[generation].observe(seconds)

    def flush_pauses(self) -> None:
        for batch in self._batches:
            batch.flush()


class GcPauses:
    """Times every garbage collection (``gcpauses.GcTimer``: one callback, whatever the
    backends) and hands the pauses to each recorder at each reading."""

    def __init__(self, recorders: Sequence[PauseRecorder], *, loop_thread_id: int) -> None:
        self.timer = GcTimer(loop_thread_id=loop_thread_id)
        self.recorders = list(recorders)
        self.timer.install()

    def publish(self, reading: GaugeReading) -> None:
        pending = self.timer.collections
        while True:
            try:
                collection = pending.popleft()
            except IndexError:
                break
            generation = min(max(collection[1], 0), 2)
            for recorder in self.recorders:
                recorder.record_pause(generation, collection[2] / 1000.0)
        for recorder in self.recorders:
            recorder.flush_pauses()

    def close(self) -> None:
        self.timer.uninstall()


class GaugeLoop:
    """Reads the gauges every ``interval_s`` on the loop and hands them to ``publishers``."""

    def __init__(
        self,
        publishers: Sequence[Publisher],
        *,
        interval_s: float = defaults.METRICS_GAUGE_INTERVAL_MS / 1000.0,
        on_stop: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.publishers = list(publishers)
        self.interval_s = interval_s
        self._on_stop = list(on_stop)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        hooks.install_sqlalchemy()
        hooks.install_logging()
        self.sample()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lagscope-metrics")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.sample()

    def sample(self) -> None:
        reading = read_gauges()
        for publisher in self.publishers:
            publisher.publish(reading)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for callback in self._on_stop:
            callback()
