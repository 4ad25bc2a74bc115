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
FAULTS = "faults.json"  # shop's switched faults, followed by every worker
PROFILE_REQUEST = "profile-request.json"
GAMEDAY_TOML = "gameday.toml"
GAMEDAY_PNG = "gameday.png"
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
PROFILE_HTML = "profile.html"
PROFILE_SPEEDSCOPE = "profile.speedscope.json"

# A sweep's directory.
SWEEP_JSON = "sweep.json"
SWEEP_HTML = "sweep.html"


def request_part(pid: int, n: int) -> str:
    """The name of the ``n``-th spool part of load-generator process ``pid``."""
    return f"requests-{pid}-{n:05d}.parquet"


# Columns.
REQUEST_COLUMNS = (
    "t", "latency_ms", "method", "name", "status", "ok", "bytes", "error", "pid",
    "intended_t", "uncorrected_ms", "send_lag_ms",
)  # fmt: skip
EVENT_COLUMNS = ("t", "source", "event")  # each event adds its own fields
LAG_COLUMNS = ("t", "lag_ms")
STALL_COLUMNS = (
    "pid",
    "start",
    "duration_ms",
    "lag_ms",
    "samples",
    "cpu_share",
    "cause",
    "location",
    "function",
    "in_user_code",
    "endpoint",
    "stacks",
)  # fmt: skip  (stalls.jsonl's fields, with the worker's pid added by the reader)
GAUGE_COLUMNS = (
    "t", "tasks", "tasks_wait_top", "tasks_wait_count",
    "requests_wait_endpoint", "requests_wait_top", "requests_wait_count",
    "threads_busy", "threads_total", "threads_waiting",
    "db_checked_out", "db_capacity", "db_waiting", "db_dialects", "db_held_top", "db_held_count",
    "log_records", "log_bytes", "log_top", "rss_mb",
)  # fmt: skip
RESOURCE_COLUMNS = (
    "t", "role", "pid", "ppid", "name", "rss_mb", "cpu_pct", "threads", "fds", "connections",
)  # fmt: skip

# Environment variables the harness sets for the processes it starts.
ENV_APP = "LAGSCOPE_APP"  # the user's app, module:attribute (server workers)
ENV_RUN_DIR = "LAGSCOPE_RUN_DIR"  # the run directory (workers, Locust, shop)
ENV_PROBE = "LAGSCOPE_PROBE"  # 1 to probe, 0 to serve the app bare
ENV_INTERVAL_MS = "LAGSCOPE_INTERVAL_MS"  # heartbeat interval
ENV_STALL_THRESHOLD_MS = "LAGSCOPE_STALL_THRESHOLD_MS"  # lag above which stacks are sampled
ENV_DEADLINE = "LAGSCOPE_DEADLINE"  # unix time after which a worker stops itself
ENV_HARNESS_PID = "LAGSCOPE_HARNESS_PID"  # a worker stops itself when this process is gone
ENV_THREADPOOL = "LAGSCOPE_THREADPOOL"  # tokens of anyio's default thread limiter
ENV_PROFILE = "LAGSCOPE_PROFILE"  # 1: profile the window the harness asks for
ENV_MEMORY_CAP_MB = "LAGSCOPE_MEMORY_CAP_MB"  # RSS at which shop's seeded leaks stop growing
ENV_ADMIN_TOKEN = "LAGSCOPE_ADMIN_TOKEN"  # the run's token for shop's fault switch
ENV_FAULT_FILE = "LAGSCOPE_FAULT_FILE"  # FAULTS, followed by every shop worker
ENV_SEED = "LAGSCOPE_SEED"  # seed of scenarios and the downstream
ENV_SCENARIO_FILE = "LAGSCOPE_SCENARIO_FILE"  # the scenario's locustfile (Locust)
ENV_ALLOW_REMOTE = "LAGSCOPE_ALLOW_REMOTE"  # 1: let requests leave loopback (Locust)
ENV_OPENAPI_PATHS = "LAGSCOPE_OPENAPI_PATHS"  # JSON list for the openapi scenario
ENV_OPEN_MODEL = "LAGSCOPE_OPEN_MODEL"  # the arrival plan's options, JSON (Locust)
