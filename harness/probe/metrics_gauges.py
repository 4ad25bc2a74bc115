"""The app-side gauges as Prometheus series: sampled on the worker's loop every second.

Each sample first flushes what ``flush`` gathered (the requests' counts and timings).

Pending tasks, anyio's threadpool, each SQLAlchemy pool (by ``engine``), log records
and bytes (counters: the growth since the last sample is added) and RSS.  Only the
cheap readings of ``gauges.sample`` are taken (no walk of the tasks' await chains):
one sample costs a few microseconds plus ``all_tasks()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lagscope.harness.probe import hooks
from lagscope.harness.probe.gauges import rss_bytes, thread_limiter
from lagscope.harness.probe.metrics import Instruments

from lagscope import defaults


class MetricsGauges:
    """Sets the per-worker gauges of ``instruments`` every ``interval_s`` on the loop."""

    def __init__(
        self,
        instruments: Instruments,
        *,
        worker: str,
        stall_threshold_s: float,
        interval_s: float = defaults.METRICS_GAUGE_INTERVAL_MS / 1000.0,
        flush: Callable[[], None] | None = None,
    ) -> None:
        self.m = instruments
        self._flush = flush
        self.worker = worker
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._logs = (hooks.LOGS.records, hooks.LOGS.bytes)
        self.m.threshold.labels(worker).set(stall_threshold_s)

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
        """Read every gauge once (call on the running loop)."""
        m, w = self.m, self.worker
        if self._flush is not None:
            self._flush()
        hooks.install_sqlalchemy()  # no-op once installed, or while the app has not imported it
        m.tasks.labels(w).set(len(asyncio.all_tasks()))
        threads = thread_limiter()
        if threads is not None:
            m.threads_busy.labels(w).set(threads[0])
            m.threads_total.labels(w).set(threads[1])
            m.threads_waiting.labels(w).set(threads[2])
        for engine, checked_out, capacity, waiting in hooks.pools_by_engine():
            m.db_checked_out.labels(w, engine).set(checked_out)
            m.db_size.labels(w, engine).set(capacity)
            m.db_waiting.labels(w, engine).set(waiting)
        records, written = hooks.LOGS.records, hooks.LOGS.bytes
        m.log_records.labels(w).inc(max(records - self._logs[0], 0))
        m.log_bytes.labels(w).inc(max(written - self._logs[1], 0))
        self._logs = (records, written)
        m.rss.labels(w).set(rss_bytes())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._flush is not None:
            self._flush()
