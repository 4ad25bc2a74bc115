"""The run directory's contract: every file name, column list and ``LAGSCOPE_*`` variable.

Every writer (harness, probe, load generator, ``reports``) and every reader
(``reports.rundata``, the game day's live view) names files, columns and variables from
here, once; docs/run-directory.md documents each.  Standard library only: the probe
imports it in every server worker.  The typed columns of ``requests.parquet`` are
``lagscope.request_schema.SCHEMA`` (pyarrow); its names equal ``REQUEST_COLUMNS``.
"""

from __future__ import annotations

# At the top of a run directory.
RUN_JSON = "run.json"
EVENTS = "events.jsonl"
REQUESTS = "requests.parquet"
SPOOL = "spool"  # request parts the load generator wrote and the harness has not merged
REQUEST_PARTS = "requests-*.parquet"  # in SPOOL
RESOURCES = "resources.csv"
ERROR_BODIES = "error-bodies.jsonl"  # a sample of 4xx response bodies (load generator)
FAULTS = "faults.json"  # shop's switched faults, followed by every worker
INJECT = "inject.json"  # the probe's injected faults, followed by every worker
PROFILE_REQUEST = "profile-request.json"
OPENAPI_SCHEMA = "openapi.json"  # the app's /openapi.json as the harness read it
OPENAPI_PLAN = "openapi-plan.json"  # the openapi scenario's requests (lagscope.openapi_plan)
GAMEDAY_TOML = "gameday.toml"
GAMEDAY_PNG = "gameday.png"
METRICS_SCRAPE = "metrics.prom"  # --metrics: the target's last scrape before it stopped
PROMETHEUS_MULTIPROC = "prometheus-multiproc"  # --metrics: the workers' metric files
SUMMARY = "summary.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
CHARTS = "charts"
LOGS = "logs"
TARGET_LOG = "target.log"  # in LOGS, as are the next two
DOWNSTREAM_LOG = "downstream.log"
LOCUST_LOG = "locust.log"
WORKERS = "workers"  # one folder per server worker pid
RESERVE = ".reserve"  # room held while the run goes, released to write its end (a full disk)

# In workers/<pid>/.
META = "meta.json"
LAG = "lag.csv"
STALLS = "stalls.jsonl"
GAUGES = "gauges.csv"
INJECTED = "injected.jsonl"  # what the injector applied in this worker, and when
GC = "gc.csv"  # every collection of the garbage collector, timed
EXCEPTIONS = "exceptions.json"  # the exceptions that escaped the app, counted by kind
EXCEPTION_COLUMNS = ("type", "message", "site", "endpoint", "count")  # its "kinds"
PROFILE_HTML = "profile.html"
PROFILE_SPEEDSCOPE = "profile.speedscope.json"

# A sweep's directory.
SWEEP_JSON = "sweep.json"
SWEEP_HTML = "sweep.html"


def loadgen_locustfile(run_id: str) -> str:
    """The locustfile a --load-workers run's master sends its workers (unique per run: each
    worker saves it under this name in its temporary folder)."""
    return f"lagscope_loadgen_{run_id}.py"


def request_part(pid: int, n: int) -> str:
    """The name of the ``n``-th spool part of load-generator process ``pid``."""
    return f"requests-{pid}-{n:05d}.parquet"


# Columns.
REQUEST_COLUMNS = (
    "t", "latency_ms", "method", "name", "status", "ok", "bytes", "error", "pid",
    "intended_t", "uncorrected_ms", "send_lag_ms", "load_worker",
)  # fmt: skip
EVENT_COLUMNS = ("t", "source", "event")  # each event adds its own fields
ERROR_BODY_COLUMNS = ("t", "method", "name", "status", "body", "pid")
LAG_COLUMNS = ("t", "lag_ms")
STALL_COLUMNS = (
    "pid",
    "start",
    "duration_ms",
    "lag_ms",
    "samples",
    "cpu_share",
    "cpu_wait_ms",
    "cause",
    "location",
    "function",
    "in_user_code",
    "endpoint",
    "stacks",
    "injected",
)  # fmt: skip  (stalls.jsonl's fields, with the worker's pid added by the reader)
GAUGE_COLUMNS = (
    "t", "tasks", "tasks_wait_top", "tasks_wait_count", "tasks_wait_sites",
    "requests_wait_endpoint", "requests_wait_top", "requests_wait_count",
    "threads_busy", "threads_total", "threads_waiting",
    "db_checked_out", "db_capacity", "db_waiting", "db_dialects", "db_held_top", "db_held_count",
    "log_records", "log_bytes", "log_top", "rss_mb",
)  # fmt: skip
INJECTED_COLUMNS = ("t", "pid", "action", "kind", "spec", "detail")  # injected.jsonl, pid added
GC_COLUMNS = (
    "t", "generation", "duration_ms", "cpu_ms", "collected", "uncollectable", "on_loop", "site",
)  # fmt: skip
RESOURCE_COLUMNS = (
    "t", "role", "pid", "ppid", "name", "rss_mb", "cpu_pct", "threads", "fds", "connections",
)  # fmt: skip

# Environment variables the harness sets for the processes it starts.
ENV_APP = "LAGSCOPE_APP"  # the user's app, module:attribute (server workers)
ENV_CODE = "LAGSCOPE_CODE"  # further packages of the user's code, comma-separated (--code)
ENV_RUN_DIR = "LAGSCOPE_RUN_DIR"  # the run directory (workers, Locust, shop)
ENV_PROBE = "LAGSCOPE_PROBE"  # 1 to probe, 0 to serve the app bare
ENV_INTERVAL_MS = "LAGSCOPE_INTERVAL_MS"  # heartbeat interval
ENV_STALL_THRESHOLD_MS = "LAGSCOPE_STALL_THRESHOLD_MS"  # lag above which stacks are sampled
ENV_DEADLINE = "LAGSCOPE_DEADLINE"  # unix time after which a worker stops itself
ENV_HARNESS_PID = "LAGSCOPE_HARNESS_PID"  # a worker stops itself when this process is gone
ENV_THREADPOOL = "LAGSCOPE_THREADPOOL"  # tokens of anyio's default thread limiter
ENV_PROFILE = "LAGSCOPE_PROFILE"  # 1: profile the window the harness asks for
ENV_MEMORY_CAP_MB = "LAGSCOPE_MEMORY_CAP_MB"  # RSS at which shop's seeded leaks stop growing
ENV_RELAY_LATENCY_MS = "LAGSCOPE_RELAY_LATENCY_MS"  # shop's mail relay: ms per receipt
ENV_ADMIN_TOKEN = "LAGSCOPE_ADMIN_TOKEN"  # the run's token for shop's fault switch
ENV_FAULT_FILE = "LAGSCOPE_FAULT_FILE"  # FAULTS, followed by every shop worker
ENV_INJECT_TOKEN = "LAGSCOPE_INJECT_TOKEN"  # the run's token: turns the probe's injector on
ENV_INJECT_FILE = "LAGSCOPE_INJECT_FILE"  # INJECT, followed by every worker's injector
ENV_SEED = "LAGSCOPE_SEED"  # seed of scenarios and the downstream
ENV_SCENARIO_FILE = "LAGSCOPE_SCENARIO_FILE"  # the scenario's locustfile (Locust)
ENV_ALLOW_REMOTE = "LAGSCOPE_ALLOW_REMOTE"  # 1: let requests leave loopback (Locust)
ENV_OPENAPI_PLAN = "LAGSCOPE_OPENAPI_PLAN"  # OPENAPI_PLAN's path, for the openapi scenario
ENV_OPENAPI_HEADERS = "LAGSCOPE_OPENAPI_HEADERS"  # --header pairs, JSON (kept out of files)
ENV_OPEN_MODEL = "LAGSCOPE_OPEN_MODEL"  # the arrival plan's options, JSON (Locust)
ENV_METRICS_PATH = "LAGSCOPE_METRICS_PATH"  # the probe answers Prometheus scrapes here
ENV_LOADGEN_NAME = "LAGSCOPE_LOADGEN_NAME"  # `lagscope loadgen --name`: its records' load_worker
ENV_STALL_LOCATIONS = "LAGSCOPE_STALL_LOCATIONS"  # metrics: location labels per worker

# The probe's injector answers here (only with LAGSCOPE_INJECT_TOKEN set, and the token).
INJECT_PATH = "/_lagscope/inject"
# The probe's data for a harness that did not start the server (instrument(probe_token=...)).
PROBE_PATH = "/_lagscope/probe"
