"""Every default of a run, named once: the CLI, the run configuration, the probe, game-day
files and the reports read them from here (docs and ``--help`` show them)."""

from __future__ import annotations

DURATION_S = 30.0  # load duration
USERS = 20  # closed model: concurrent Locust users
SPAWN_RATE = 20.0  # users started per second
MAX_USERS = 1000  # open model: cap of the pool of users the arrivals are handed to
STALL_THRESHOLD_MS = 20.0  # loop lag above which the watchdog samples the loop's stack
PROBE_INTERVAL_MS = 10.0  # heartbeat interval
PROBE_SAMPLE_MS = 2.0  # the watchdog's stack-sampling interval during a stall
GAUGE_INTERVAL_MS = 500.0  # app-side gauges sampling interval (docs/performance.md)
DOWNSTREAM_LATENCY_MS = 50.0  # shop's payments downstream
DOWNSTREAM_STOCK_LATENCY_MS = 100.0  # shop's warehouse downstream
RELAY_LATENCY_MS = 50.0  # shop's mail relay: time to deliver one receipt (2 at a time)
MEMORY_CAP_MB = 512.0  # RSS per worker at which shop's seeded leaks stop growing
SWEEP_START_RATE = 50.0  # requests/s of a sweep's first step
METRICS_GAUGE_INTERVAL_MS = 1000.0  # Prometheus gauges' sampling interval (scrapes: ~1-15 s)
METRICS_PATH = "/metrics"  # where instrument(app) answers scrapes without a run directory
STALL_LOCATIONS = 20  # metrics: locations a worker labels before the rest count as "other"
OPENAPI_METHODS = ("GET", "HEAD")  # the openapi scenario sends only these unless --methods
OPENAPI_VARIANTS = 12  # requests generated per operation before the load (openapi scenario)
STARTUP_TIMEOUT_S = 180.0  # how long the target may take to serve (apps that load a model)
