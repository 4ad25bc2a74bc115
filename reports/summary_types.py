"""The shape of ``summary.json``: one ``TypedDict`` per section (docs/run-directory.md).

The processing steps return these and the renderers, ``compare`` and the rules take them,
so mypy catches a key renamed on one side only.  Types only: nothing here runs, and a
value is still a plain ``dict`` (``json.dumps`` writes it as before).  A key a section
holds only sometimes is ``NotRequired``; a section that is empty (``{}``) when its data
is missing is ``total=False``.  tests/reports/test_summary_types.py checks real summaries
against these declarations, so they cannot drift from what ``summarize`` writes.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# The latency figures every figure set holds, in milliseconds.
PercentileKey = Literal["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"]
PERCENTILE_KEYS: tuple[PercentileKey, ...] = (
    "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms",
)  # fmt: skip
Severity = Literal["critical", "warning"]


class Condition(TypedDict):
    """``run.conditions[]``: a run condition a fault set (a flag not given)."""

    fault: str
    flag: str
    value: str


class RunSection(TypedDict):
    """``run``: what ran (from run.json's config and the events)."""

    dir: str
    app: str | None
    scenario: str | None
    faults: list[str]
    conditions: list[Condition]
    workers: int | None
    loop: list[str | None]  # as the workers reported; run.json's when none did
    probe: bool | None
    outcome: str
    duration_s: float | None
    interrupted_after_s: float | None
    target_exit_code: int | None
    target_ready: bool
    # outcome "refused": why (the run_refused event); absent otherwise and in earlier runs
    refused: NotRequired[str]


class WindowSection(TypedDict):
    """``window``: the steady window the figures cover."""

    start: float
    end: float
    seconds: float
    basis: str
    requests_outside: int


class Percentiles(TypedDict):
    """``uncorrected`` (rate mode): the percentiles counted from the actual send."""

    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None


class LatencyFigures(TypedDict):
    """One figure set: of all requests, of one endpoint, or of the profiled ones."""

    count: int
    failures: int
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None
    uncorrected: NotRequired[Percentiles]  # rate mode only


class RequestsSection(TypedDict):
    """``requests``: the aggregate and each ``"METHOD /path"``."""

    aggregate: LatencyFigures
    endpoints: dict[str, LatencyFigures]


class Blocker(TypedDict):
    """One of ``loop.top_blockers``: blocked time at one blamed location."""

    location: str
    function: str | None
    endpoint: str | None
    cause: str | None
    in_user_code: bool
    count: int
    total_ms: float
    max_ms: float
    stack: list[str]
    context: NotRequired[str]  # a stall put on the collector: the line the watchdog saw
    injected: NotRequired[str]  # the injector's fault that stalled (or lengthened) it


class LoopSection(TypedDict):
    """``loop``: lag percentiles, stall totals and the top blockers."""

    workers: int
    heartbeats: int
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_max_ms: float | None
    stall_count: int
    stall_threshold_ms: float
    unsampled_stalls: int
    stall_total_ms: float
    # Stalls that would be under the threshold but for the loop thread's waits for a CPU
    # (absent from summaries written before the probe measured them).
    machine_stalls: NotRequired[int]
    machine_stall_ms: NotRequired[float]
    top_blockers: list[Blocker]


class RoleResources(TypedDict):
    """``resources[role]``: sums over the role's processes per sample."""

    samples: int
    processes: int
    rss_mb_start: float
    rss_mb_end: float
    rss_mb_peak: float
    cpu_pct_mean: float
    cpu_pct_max: float
    fds_max: int
    threads_max: int


class TaskFigures(TypedDict, total=False):
    """``app.workers[pid].tasks``; empty without a ``tasks`` gauge."""

    start: float
    end: float
    max: int
    growth_per_s: float
    wait_top: str | None
    wait_top_max: int


class PoolFigures(TypedDict):
    """``threads`` or ``db`` of a worker; only ``capacity`` (None) when the gauge is missing."""

    capacity: int | None
    busy_max: NotRequired[int]
    busy_mean: NotRequired[float]
    saturated_share: NotRequired[float]
    waiting_max: NotRequired[int]
    waiting_share: NotRequired[float]
    busy_min_after_saturation: NotRequired[int | None]
    dialects: NotRequired[str | None]  # db only
    wait_site: NotRequired[str | None]
    held_site: NotRequired[str | None]  # db, with a probe that records held sessions
    held_max: NotRequired[int]


class LogFigures(TypedDict, total=False):
    """``app.workers[pid].logs``; empty without log gauges."""

    records: int
    bytes: int
    records_per_s: float
    bytes_per_s: float
    top_source: str | None


class RssFigures(TypedDict, total=False):
    """``app.workers[pid].rss_mb``; empty without an ``rss_mb`` gauge."""

    start: float
    end: float
    max: float


Shape = Literal["growing", "levelling", "draining", "flat"]


class Trend(TypedDict):
    """A gauge's shape over the window (``reports.trend``)."""

    points: int
    seconds: float
    start: float
    end: float
    peak: float
    slope_per_s: float
    early_slope_per_s: float
    late_slope_per_s: float
    rise: float
    noise: float
    p_value: float
    shape: Shape


class SiteTrend(Trend):
    """``growth.task_sites[]``: the tasks waiting at one site."""

    site: str


class HeldTrend(Trend):
    """``growth.db_held``: sessions held 2 s and more, and where most were opened."""

    site: str | None


class GrowthFigures(TypedDict):
    """``app.workers[pid].growth``: the shape of each gauge a leak grows (None: no gauge)."""

    tasks: Trend | None
    task_sites: list[SiteTrend]  # only the sites whose tasks grow, most risen first
    rss_mb: Trend | None
    db_checked_out: Trend | None
    db_held: HeldTrend | None
    threads_waiting: Trend | None


class WorkerGauges(TypedDict):
    """``app.workers[pid]``: one worker's gauges over the window."""

    samples: int
    tasks: TaskFigures
    request_waits: dict[str, str]  # endpoint -> the site its requests waited at most
    threads: PoolFigures
    db: PoolFigures
    logs: LogFigures
    rss_mb: RssFigures
    growth: GrowthFigures


class AppSection(TypedDict):
    """``app``: the workers' gauges, by pid."""

    workers: dict[str, WorkerGauges]


class EndpointErrors(TypedDict):
    """``statuses.endpoints[endpoint]``: its server errors."""

    server_errors: int
    statuses: dict[str, int]  # HTTP status -> count
    mean_bytes: float
    example_error: str | None


class UnhandledKind(TypedDict):
    """``statuses.unhandled[]``: exceptions that escaped the app, of one kind (whole run)."""

    type: str  # ZeroDivisionError
    message: str  # its first line
    site: str  # path:line of the innermost frame of the user's code ("" when none)
    endpoint: str  # METHOD /route of the request it escaped from
    count: int  # over every worker


class EndpointShed(TypedDict):
    """``statuses.shed_endpoints[endpoint]``: its 503s of all its requests."""

    shed_503: int
    requests: int


class StatusesSection(TypedDict):
    """``statuses``: server errors, deliberate 503s and no-response requests."""

    requests: int
    server_errors: int
    shed_503: int
    no_response: int
    endpoints: dict[str, EndpointErrors]
    shed_endpoints: dict[str, EndpointShed]
    # The probe's count of exceptions that escaped the app, most first (UNHANDLED_KEPT);
    # absent from the summaries of runs before it was counted.
    unhandled: NotRequired[list[UnhandledKind]]


class GenerationFigures(TypedDict):
    """``gc.generations[gen]``."""

    collections: int
    total_ms: float
    pauses: int
    pauses_ms: float
    max_ms: float


class GcTail(TypedDict):
    """``gc.tail``: the requests at or above P99 that overlapped a pause."""

    p99_ms: float | None
    requests: int
    overlapping: int
    share: float | None


class GcSection(TypedDict):
    """``gc``: the garbage collector over the window; only ``recorded`` (False) and
    ``threshold_ms`` for a run without gc.csv."""

    recorded: bool
    threshold_ms: float
    collections: NotRequired[int]
    total_ms: NotRequired[float]
    share: NotRequired[float]
    generations: NotRequired[dict[str, GenerationFigures]]
    pauses: NotRequired[int]
    held_up: NotRequired[int]
    pauses_ms: NotRequired[float]
    pauses_share: NotRequired[float]
    max_ms: NotRequired[float]
    stalls: NotRequired[int]
    stalls_ms: NotRequired[float]
    context: NotRequired[str | None]
    tail: NotRequired[GcTail]


class Validation(TypedDict):
    """The most common validation error of an endpoint's sampled 422 bodies."""

    loc: str
    msg: str
    bodies: int
    of: int


class EndpointClientErrors(TypedDict):
    """``client_errors.endpoints[endpoint]``."""

    client_errors: int
    requests: int
    share: float
    statuses: dict[str, int]
    validation: Validation | None


class ClientErrorsSection(TypedDict):
    """``client_errors``: 4xx per endpoint, with what was left out by reason."""

    requests: int
    client_errors: int
    left_out: dict[str, int]  # expected, missing_resource, rate_limited
    endpoints: dict[str, EndpointClientErrors]


class SafetySection(TypedDict):
    """``safety``: whether a worker reached the seeded faults' memory cap."""

    memory_cap_mb: float | None
    cap_hit: bool
    workers_at_cap: list[str]
    rss_mb_max: float | None


class ProfileFile(TypedDict):
    pid: int
    html: str
    speedscope: str


class ProfileOverhead(TypedDict):
    """``profile.overhead``: the profiler's cost, inside the span against outside it."""

    rps_inside: float | None
    rps_outside: float | None
    throughput_drop: float | None
    p50_ms_inside: float | None
    p50_ms_outside: float | None
    cpu_ms_per_request_inside: NotRequired[float | None]  # when resources were loaded
    cpu_ms_per_request_outside: NotRequired[float | None]


class ProfileSection(TypedDict):
    """``profile`` (``--profile``): the profiled span, its files, requests and overhead."""

    start: float
    end: float
    seconds: float
    files: list[ProfileFile]
    requests: LatencyFigures
    overhead: ProfileOverhead


class SelfCheck(TypedDict):
    """One of ``self_checks``: a doubt about the report's own numbers."""

    kind: str
    message: str


class RunStop(TypedDict):
    """``environment.stopped``: why the run ended before its load did."""

    reason: Literal["disk_full", "write_failed"]
    detail: str
    after_s: float | None  # seconds from load_start


class LoadDeath(TypedDict):
    """One of ``environment.load_deaths``: a load-generator process that died."""

    pid: int
    role: str  # "locust" or "locust worker"
    how: str
    after_s: float | None
    requests: int  # of its requests, kept


class OtherRuns(TypedDict):
    """``environment.other_runs``: other lagscope runs seen during the window."""

    runs: list[str]
    cpu_pct_mean: float  # their processes' CPU, % of one core
    seconds: float


class EnvironmentSection(TypedDict):
    """``environment``: what the machine did to the run (reports.environment)."""

    stopped: RunStop | None
    load_deaths: list[LoadDeath]
    other_runs: OtherRuns | None


class Culprit(TypedDict):
    """``slo.checks[].culprit``: the endpoint most offending requests came from."""

    endpoint: str
    share: float
    requests: int
    of: str  # what they are: "requests over 200 ms", "failed requests"


class SloCheck(TypedDict):
    name: str
    target: str  # "< 500 ms"
    actual: float | None
    unit: str
    passed: bool
    culprit: Culprit | None


class SloSection(TypedDict):
    """``slo`` (when checks were given)."""

    passed: bool
    checks: list[SloCheck]


class Finding(TypedDict):
    """One of ``diagnosis``: what a rule found, where, and what to do."""

    kind: str
    severity: Severity
    summary: str
    evidence: str
    location: str
    remedy: str
    endpoint: NotRequired[str | None]  # rules that blame an endpoint
    cause: NotRequired[str]  # event_loop_blocking: "cpu" or "wait"; gc_pauses: "gc"
    phase: NotRequired[str]  # game days: the first phase that alone showed it
    injected: NotRequired[list[str]]  # the injected faults (specs) that explain it


class InjectedCrash(TypedDict):
    pid: int
    t: float
    signal: str | None


class Injected(TypedDict):
    """One of ``injected``: a fault the probe's injector applied, and what it did."""

    kind: str
    spec: str  # as --inject writes it
    start: float  # unix s: the first worker that switched it on
    end: float | None  # the last worker that switched it off, else the run's end
    workers: list[int]
    matched: int  # calls or statements that matched it (dependency and db faults)
    affected: int  # of which it delayed or failed
    crashes: list[InjectedCrash]
    capped: list[int]  # workers where memory_leak reached the memory cap


class OpenModelSection(TypedDict):
    """``open_model`` (``--rate``): how the plan was kept."""

    rate: str
    arrivals: str
    procs: int
    planned: int
    sent_rps: float
    start_skew_ms: float
    send_lag_p50_ms: float | None
    send_lag_p99_ms: float | None
    late_threshold_ms: float
    late_sends: int
    worst_lateness_ms: float | None
    max_users: int
    pool_size: int
    cap_reached: bool
    waits_for_user: int
    unfinished: int
    plans_ended: int


class PhaseFigures(TypedDict):
    """``gameday.phases[]``."""

    name: str
    role: str | None
    planned_at: float
    started_at: float | None
    actions: list[str]


class GamedaySlo(TypedDict):
    """``gameday.slos[]``: one objective's SLI series and verdict."""

    name: str
    objective: str
    budget: float
    endpoints: list[str]
    requests: int
    bad: int
    bad_share: float | None
    back_within_objective_at: float | None
    bad_per_second: list[int]
    total_per_second: list[int]


class AlertTransition(TypedDict):
    at: float  # seconds from t0
    firing: bool


class AlertFigures(TypedDict):
    """``gameday.alerts[]``: one burn-rate rule and when it fired."""

    name: str
    slo: str
    severity: str
    long_window_s: int
    short_window_s: int
    burn_rate: float
    for_s: int
    transitions: list[AlertTransition]
    firing_seconds: int
    max_long_burn_rate: float


class ExpectationResult(TypedDict):
    text: str
    passed: bool
    actual: str  # what was measured, in words


class RunbookEntry(TypedDict):
    kind: str
    location: str | None
    symptom: str
    confirm: str
    fix: str


class GamedayFigures(TypedDict):
    """What ``reports.gameday.gameday_figures`` measures over a started exercise."""

    title: str
    file: str
    t0: float
    seconds: float
    phases: list[PhaseFigures]
    time_to_detect_s: float | None
    time_to_mitigate_s: float | None
    error_budget_consumed: dict[str, float]  # SLO name -> share of its period's budget
    slos: list[GamedaySlo]
    alerts: list[AlertFigures]
    expectations: list[ExpectationResult]
    passed: bool


class GamedaySection(TypedDict):
    """``gameday`` (game days only); an exercise that never started lacks the timeline's keys."""

    title: str
    file: NotRequired[str]
    t0: NotRequired[float]
    seconds: NotRequired[float]
    phases: NotRequired[list[PhaseFigures]]
    time_to_detect_s: float | None
    time_to_mitigate_s: float | None
    error_budget_consumed: dict[str, float]
    slos: NotRequired[list[GamedaySlo]]
    alerts: list[AlertFigures]
    expectations: list[ExpectationResult]
    passed: bool
    started: bool
    runbook: list[RunbookEntry]


class SkippedOperation(TypedDict):
    key: str  # "METHOD /path"
    reason: str  # why it was not sent, and how to send it when the user can


# Functional syntax: the status classes are not identifiers.
OperationCoverage = TypedDict(
    "OperationCoverage",
    {
        "requests": int,
        "2xx": int,
        "3xx": int,
        "4xx": int,
        "5xx": int,
        "no_response": int,
        "weight": float,
        "linked": list[str],  # parameters that take values from earlier answers
    },
)


class CoverageSection(TypedDict):
    """``scenario.coverage``: what the openapi scenario covered (lagscope.reports.coverage)."""

    found: int
    planned: int
    exercised: int
    not_exercised: list[str]
    skipped: list[SkippedOperation]
    methods: list[str]
    choice: str | None  # what lagscope chose to send without --methods, and why
    generation_ms: float
    operations: dict[str, OperationCoverage]


class ScenarioSection(TypedDict):
    """``scenario``: the scenario's name and, for the openapi scenario, its coverage."""

    name: str | None
    coverage: CoverageSection | None


class LoadWorker(TypedDict):
    """A remote load worker (``--load-workers``): records, clock, fate."""

    name: str
    index: int
    requests: int
    clock_offset_ms: float | None  # its clock minus the master's
    clock_uncertainty_ms: float | None  # ± half the shortest round trip
    lost_after_s: float | None  # seconds into the run when Locust marked it missing


class Summary(TypedDict):
    """``summary.json``."""

    run: RunSection
    window: WindowSection
    requests: RequestsSection
    loop: LoopSection
    resources: dict[str, RoleResources]  # by role: target, load_generator, downstream
    app: AppSection
    gc: GcSection
    statuses: StatusesSection
    client_errors: ClientErrorsSection
    safety: SafetySection
    diagnosis: list[Finding]
    injected: list[Injected]  # empty without injection
    profile: ProfileSection | None
    self_checks: list[SelfCheck]
    environment: EnvironmentSection
    slo: SloSection | None
    open_model: OpenModelSection | None
    gameday: NotRequired[GamedaySection]
    scenario: NotRequired[ScenarioSection]  # absent from summaries written before it existed
    load_workers: NotRequired[list[LoadWorker]]  # --load-workers runs only
