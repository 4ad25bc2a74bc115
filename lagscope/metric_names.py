"""The Prometheus metrics contract: every metric the probe exports, its labels and buckets.

The probe (``harness/probe/metrics.py``) creates exactly these; the SLO rules generator
(``reports/prom_rules.py``) and the Grafana dashboard (``deploy/grafana/``) query only
these, and tests/test_dashboard.py holds them to it.  Names are as scraped: a counter's
``_total``, a histogram's ``_bucket``/``_sum``/``_count`` are added by the client.
Standard library only: the probe imports it in every server worker.
"""

from __future__ import annotations

# Event loop (per worker: the ``worker`` label is the worker's pid).
LOOP_LAG = "lagscope_loop_lag_seconds"  # histogram of heartbeat lag
LOOP_STALLS = "lagscope_loop_stalls_total"  # counter {location, endpoint, cause}
LOOP_BLOCKED = "lagscope_loop_blocked_seconds_total"  # counter {location, endpoint, cause}
STALL_THRESHOLD = "lagscope_loop_stall_threshold_seconds"  # gauge: lag that counts as a stall

# App-side gauges (per worker), sampled on the loop.
TASKS_PENDING = "lagscope_tasks_pending"
THREADPOOL_BUSY = "lagscope_threadpool_busy"
THREADPOOL_TOTAL = "lagscope_threadpool_total"
THREADPOOL_WAITING = "lagscope_threadpool_waiting"
DB_CHECKED_OUT = "lagscope_db_pool_checked_out"  # {worker, engine}
DB_SIZE = "lagscope_db_pool_size"  # capacity: size + max overflow (0: unbounded)
DB_WAITING = "lagscope_db_pool_waiting"
GC_PAUSE = "lagscope_gc_pause_seconds"  # histogram {worker, generation}: each collection
LOG_RECORDS = "lagscope_log_records_total"
LOG_BYTES = "lagscope_log_bytes_total"
RSS = "lagscope_resident_memory_bytes"
# Exceptions that escaped the app to the server, by class and the user's line that raised it.
UNHANDLED = "lagscope_unhandled_exceptions_total"  # counter {worker, type, location}

# HTTP RED metrics by route template (never the raw path: bounded cardinality).
HTTP_REQUESTS = "http_requests_total"  # counter {method, route, status}
HTTP_DURATION = "http_request_duration_seconds"  # histogram {method, route}

WORKER = "worker"
LOCATION = "location"
ENDPOINT = "endpoint"
CAUSE = "cause"
GENERATION = "generation"
ENGINE = "engine"
METHOD = "method"
ROUTE = "route"
STATUS = "status"
EXCEPTION_TYPE = "type"

# A label's value past a worker's bound: stalls past its first STALL_LOCATIONS locations,
# escaped exceptions past its first kinds (type and location both).
OTHER_LOCATION = "other"
UNKNOWN = "unknown"  # a stall with no blamed location, endpoint or cause
UNMATCHED_ROUTE = "unmatched"  # a request no route matched (404s): never the raw path

GC_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# An SLO's latency threshold must be one of these (the rules count requests under ``le``).
HTTP_BUCKETS_S = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
    1.0, 1.5, 2.0, 2.5, 5.0, 10.0,
)  # fmt: skip

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


def le_label(bound: float) -> str:
    """``bound`` as the client writes it in ``le`` (Go's float format: ``0.2``, ``1.0``)."""
    return "+Inf" if bound == float("inf") else repr(float(bound))


EXPORTED = frozenset({
    LOOP_LAG, LOOP_STALLS, LOOP_BLOCKED, STALL_THRESHOLD, TASKS_PENDING, THREADPOOL_BUSY,
    THREADPOOL_TOTAL, THREADPOOL_WAITING, DB_CHECKED_OUT, DB_SIZE, DB_WAITING, LOG_RECORDS,
    LOG_BYTES, RSS, HTTP_REQUESTS, HTTP_DURATION, GC_PAUSE, UNHANDLED,
})  # fmt: skip
HISTOGRAMS = frozenset({LOOP_LAG, HTTP_DURATION, GC_PAUSE})


def scraped_names() -> frozenset[str]:
    """Every series name a scrape can hold (histograms' ``_bucket``, ``_sum``, ``_count``)."""
    parts = {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    return frozenset((EXPORTED - HISTOGRAMS) | parts)


# The same instruments through OpenTelemetry (``instrument(app, otel=True)``, the
# ``lagscope[otel]`` extra): OTel's dotted names and units; HTTP follows its semantic
# conventions (a Prometheus exporter turns these back into names like the above).
OTEL_LOOP_LAG = "lagscope.loop.lag"  # histogram, s, {worker}
OTEL_LOOP_STALLS = "lagscope.loop.stalls"  # counter, {stall}, {location, endpoint, cause}
OTEL_LOOP_BLOCKED = "lagscope.loop.blocked"  # counter, s, {location, endpoint, cause}
OTEL_TASKS_PENDING = "lagscope.tasks.pending"  # observable gauges from here on, {worker}
OTEL_THREADPOOL_BUSY = "lagscope.threadpool.busy"
OTEL_THREADPOOL_TOTAL = "lagscope.threadpool.total"
OTEL_THREADPOOL_WAITING = "lagscope.threadpool.waiting"
OTEL_DB_CHECKED_OUT = "lagscope.db.pool.checked_out"  # {worker, engine}
OTEL_DB_SIZE = "lagscope.db.pool.size"
OTEL_DB_WAITING = "lagscope.db.pool.waiting"
OTEL_LOG_RECORDS = "lagscope.log.records"  # observable counters
OTEL_LOG_BYTES = "lagscope.log.bytes"
OTEL_RSS = "lagscope.memory.resident"  # By
OTEL_GC_PAUSE = "lagscope.gc.pause"  # histogram, s, {worker, generation}
OTEL_UNHANDLED = "lagscope.exceptions.unhandled"  # counter, {worker, type, location}
OTEL_HTTP_DURATION = "http.server.request.duration"  # s, semantic conventions
OTEL_HTTP_METHOD = "http.request.method"
OTEL_HTTP_ROUTE = "http.route"
OTEL_HTTP_STATUS = "http.response.status_code"
