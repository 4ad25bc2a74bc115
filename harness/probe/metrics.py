"""Prometheus instruments of the probe, and the sink that feeds them from the watchdog.

The instruments are created once per process (``instruments()``), in the client's
default registry, so an app's own metrics come out of the same ``/metrics``.  Under
several workers prometheus_client keeps each value in a file of
``PROMETHEUS_MULTIPROC_DIR`` (its multiprocess mode, chosen by that variable when the
client is first imported); ``exposition`` merges them at each scrape.

Per-worker series carry ``worker`` (the pid); gauges use the ``livesum`` mode, so a
dead worker's gauges vanish once it is marked dead, while its counters keep counting
in the totals.  The stall counters' ``location`` label is bounded: ``StallLabels``.
"""

from __future__ import annotations

import collections
import os
import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lagscope.harness.probe.sink import LagRow, drain
from prometheus_client import Counter, Gauge, Histogram

from lagscope import defaults
from lagscope import metric_names as names


class StallLabels:
    """The ``location`` label of a worker's stalls: its heaviest locations (at most
    ``limit`` at a time) by blocked time; the rest ``other``.

    Each worker tallies the blocked seconds of every location it blames (the
    Space-Saving sketch: at most ``4 × limit`` tallies, the smallest handed to a
    newcomer, so a heavy location is never lost).  The first ``limit`` locations take
    the places; a later one takes the place of the lightest once its own tally (not
    what it inherited in the sketch) is twice that one's (a fault switched on after
    start-up's scattered stalls does within a few stalls; scattered noise rarely does),
    and the displaced one counts as ``other`` from then on (its series stops growing).
    A counter's series cannot be moved or deleted across workers, so at most
    ``4 × limit`` names are ever created per worker.
    """

    def __init__(self, limit: int = defaults.STALL_LOCATIONS) -> None:
        if limit < 1:
            raise ValueError(f"stall_locations must be at least 1 (got {limit})")
        self.limit = limit
        self.capacity = 4 * limit
        self.max_names = 4 * limit
        self.tally: dict[str, float] = {}
        self.inherited: dict[str, float] = {}  # the part of a tally that is not its own
        self.placed: set[str] = set()  # the locations labelled now
        self.named: set[str] = set()  # every name ever used

    def location(self, location: str | None, blocked_s: float = 0.0) -> str:
        """The label for a stall at ``location`` that blocked the loop ``blocked_s``."""
        if location is None:
            return names.UNKNOWN
        self._count(location, blocked_s)
        if location in self.placed:
            return location
        if len(self.placed) < self.limit and self._may_name(location):
            self.placed.add(location)
            return location
        if self.placed:
            lightest = min(self.placed, key=lambda p: self.tally.get(p, 0.0))
            own = self.tally[location] - self.inherited.get(location, 0.0)
            if own > 2 * self.tally.get(lightest, 0.0) and self._may_name(location):
                self.placed.discard(lightest)
                self.placed.add(location)
                return location
        return names.OTHER_LOCATION

    def _may_name(self, location: str) -> bool:
        if location in self.named:
            return True
        if len(self.named) >= self.max_names:
            return False
        self.named.add(location)
        return True

    def _count(self, location: str, blocked_s: float) -> None:
        weight = max(blocked_s, 1e-9)
        if location in self.tally:
            self.tally[location] += weight
        elif len(self.tally) < self.capacity:
            self.tally[location] = weight
        else:
            smallest = min(
                (loc for loc in self.tally if loc not in self.placed),
                key=self.tally.__getitem__, default=None,
            )  # fmt: skip
            inherited = 0.0
            if smallest is not None:
                inherited = self.tally.pop(smallest)
                self.inherited.pop(smallest, None)
            self.tally[location] = inherited + weight
            self.inherited[location] = inherited


@dataclass(frozen=True)
class Instruments:
    lag: Histogram
    stalls: Counter
    blocked: Counter
    threshold: Gauge
    tasks: Gauge
    threads_busy: Gauge
    threads_total: Gauge
    threads_waiting: Gauge
    db_checked_out: Gauge
    db_size: Gauge
    db_waiting: Gauge
    log_records: Counter
    log_bytes: Counter
    rss: Gauge
    http_requests: Counter
    http_duration: Histogram
    gc_pause: Histogram
    unhandled: Counter


_created: Instruments | None = None
_lock = threading.Lock()


def _gauge(name: str, doc: str, labels: Sequence[str] = (names.WORKER,)) -> Gauge:
    return Gauge(name, doc, list(labels), multiprocess_mode="livesum")


def _create() -> Instruments:
    stall_labels = [names.LOCATION, names.ENDPOINT, names.CAUSE]
    http_labels = [names.METHOD, names.ROUTE]
    return Instruments(
        lag=Histogram(
            names.LOOP_LAG,
            "How late the probe's heartbeat woke (event-loop lag), per worker.",
            [names.WORKER],
            buckets=names.LAG_BUCKETS_S,
        ),
        stalls=Counter(
            names.LOOP_STALLS,
            "Event-loop stalls, by the code line blamed (location), endpoint and cause "
            "(cpu: computing; wait: in a blocking call).",
            stall_labels,
        ),
        blocked=Counter(
            names.LOOP_BLOCKED,
            "Seconds the event loop was stalled, by location, endpoint and cause.",
            stall_labels,
        ),
        threshold=_gauge(names.STALL_THRESHOLD, "Loop lag above which a stall is recorded."),
        tasks=_gauge(names.TASKS_PENDING, "Pending asyncio tasks."),
        threads_busy=_gauge(names.THREADPOOL_BUSY, "Threads of anyio's default limiter in use."),
        threads_total=_gauge(names.THREADPOOL_TOTAL, "Size of anyio's default thread limiter."),
        threads_waiting=_gauge(
            names.THREADPOOL_WAITING, "Calls waiting for a thread of anyio's default limiter."
        ),
        db_checked_out=_gauge(
            names.DB_CHECKED_OUT,
            "DB connections checked out, per engine's pool.",
            (names.WORKER, names.ENGINE),
        ),  # fmt: skip
        db_size=_gauge(
            names.DB_SIZE,
            "DB pool capacity: size + max overflow (0: unbounded).",
            (names.WORKER, names.ENGINE),
        ),  # fmt: skip
        db_waiting=_gauge(
            names.DB_WAITING, "Callers waiting for a DB connection.", (names.WORKER, names.ENGINE)
        ),
        log_records=Counter(names.LOG_RECORDS, "Log records handled.", [names.WORKER]),
        log_bytes=Counter(names.LOG_BYTES, "Bytes of log output formatted.", [names.WORKER]),
        rss=_gauge(names.RSS, "Resident memory of the worker, bytes."),
        http_requests=Counter(
            names.HTTP_REQUESTS,
            "HTTP requests answered, by method, route template and status.",
            [names.METHOD, names.ROUTE, names.STATUS],
        ),
        http_duration=Histogram(
            names.HTTP_DURATION,
            "HTTP request duration (until the app returned), by method and route template.",
            http_labels,
            buckets=names.HTTP_BUCKETS_S,
        ),
        gc_pause=Histogram(
            names.GC_PAUSE,
            "How long each garbage collection held the GIL (the loop stalls meanwhile), "
            "by generation.",
            [names.WORKER, names.GENERATION],
            buckets=names.GC_BUCKETS_S,
        ),
        unhandled=Counter(
            names.UNHANDLED,
            "Exceptions that escaped the app to the server (a 500 or no answer), by class "
            "(type) and the line of the app's code that raised them (location).",
            [names.WORKER, names.EXCEPTION_TYPE, names.LOCATION],
        ),
    )


def instruments() -> Instruments:
    """The process's instruments, created on first use."""
    global _created
    with _lock:
        if _created is None:
            _created = _create()
        return _created


def worker_label() -> str:
    return str(os.getpid())


class HistogramBatch:
    """Observations of one histogram child gathered in plain Python, added in one go.

    In multiprocess mode every ``observe`` writes the sum and a bucket to the mmap'ed
    file under a lock (~10 µs here); a request's share of that would be several per cent
    of its CPU.  Counting into a list costs well under a microsecond, and ``flush``
    (about once a second) adds each bucket's count and the sum with one write each.
    It reaches into the child's ``_buckets`` and ``_sum`` (prometheus_client's layout
    since 0.4); where they are not as expected, every value is observed at once.
    """

    def __init__(self, child: Any, bounds: Sequence[float]) -> None:
        self.child = child
        self.bounds = list(bounds)
        buckets = getattr(child, "_buckets", None)
        self._direct = not (
            isinstance(buckets, list) and len(buckets) == len(self.bounds) + 1
            and hasattr(child, "_sum")
            and list(getattr(child, "_upper_bounds", [])[:-1]) == self.bounds
        )  # fmt: skip
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        if self._direct:
            self.child.observe(value)
            return
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value
        self.sum += value

    def flush(self) -> None:
        if self._direct or not any(self.counts):
            return
        counts, total = self.counts, self.sum
        self.counts, self.sum = [0] * len(counts), 0.0
        for bucket, count in zip(self.child._buckets, counts, strict=True):
            if count:
                bucket.inc(count)
        self.child._sum.inc(total)


class MetricsSink:
    """Takes the watchdog's lag samples and stall events into the instruments."""

    def __init__(self, instruments: Instruments, *, stall_locations: int, worker: str) -> None:
        self._lag = HistogramBatch(instruments.lag.labels(worker), names.LAG_BUCKETS_S)
        self._stalls = instruments.stalls
        self._blocked = instruments.blocked
        self._labels = StallLabels(stall_locations)

    def flush_lag(self, samples: collections.deque[LagRow]) -> None:
        observe = self._lag.observe
        for _, lag_ms in drain(samples):
            observe(lag_ms / 1000.0)
        self._lag.flush()

    def write_stall(self, event: dict[str, Any]) -> None:
        seconds = float(event["duration_ms"]) / 1000.0
        labels = (
            self._labels.location(event.get("location"), seconds),
            event.get("endpoint") or names.UNKNOWN,
            event.get("cause") or names.UNKNOWN,
        )
        self._stalls.labels(*labels).inc()
        self._blocked.labels(*labels).inc(seconds)

    def close(self) -> None:
        pass
