"""Self-checks: warnings when the report's own numbers are doubtful.

Each check is a pure function of processed figures and returns warnings
``{kind, message}``; the report shows them next to the verdict.
"""

from __future__ import annotations

import pandas as pd
from lagscope.reports.summary_types import (
    EnvironmentSection,
    LatencyFigures,
    LoopSection,
    PercentileKey,
    SelfCheck,
)

from lagscope import loopback

SATURATED_CPU_PCT = 90.0  # of one core: Locust runs on one core per process
# A percentile q is supported by the data when at least this many requests lie above it.
TAIL_SAMPLES = 1.0
SHARED_CPU_PCT = 5.0  # other runs' processes above this share of a core compete for CPU
QUOTED: dict[PercentileKey, tuple[str, float]] = {
    "p99_ms": ("P99", 0.99),
    "p999_ms": ("P99.9", 0.999),
}

Warning = SelfCheck


def load_generator_saturated(resources: pd.DataFrame) -> list[Warning]:
    """Warn when a load-generator process averaged ≥ 90 % of a core in the window."""
    if resources.empty or "role" not in resources:
        return []
    load = resources.loc[resources["role"] == "load_generator"]
    if load.empty:
        return []
    per_process = load.groupby("pid")["cpu_pct"].mean()
    busy = per_process[per_process >= SATURATED_CPU_PCT]
    if busy.empty:
        return []
    return [{
        "kind": "load_generator_saturated",
        "message": (
            f"The load generator was CPU-saturated (mean {busy.max():.0f}% of a core, "
            f"≥ {SATURATED_CPU_PCT:.0f}%): latencies include its own queueing and throughput "
            "is capped by it, not by the target. Use fewer users or more load processes."
        ),
    }]  # fmt: skip


def machine_stalls(loop: LoopSection) -> list[Warning]:
    """Warn when stalls were the machine's: the loop thread waited for a CPU long enough to
    push them over the threshold (they are left out of the blockers and the diagnosis)."""
    count = int(loop.get("machine_stalls") or 0)
    if not count:
        return []
    return [{
        "kind": "machine_busy",
        "message": (
            f"{count:,} stall(s), {loop.get('machine_stall_ms', 0.0):,.0f} ms in all, were the "
            "machine's: the loop thread was ready to run but waited for a CPU, and without "
            "those waits they were under the stall threshold. They are not blamed on any "
            "line; the loop-lag and latency figures still include them. Run on a quieter "
            "machine, or with fewer users or load processes, for figures of the app alone."
        ),
    }]  # fmt: skip


def too_few_requests(aggregate: LatencyFigures) -> list[Warning]:
    """Warn for each quoted tail percentile with fewer than one request beyond it."""
    count = int(aggregate.get("count") or 0)
    warnings: list[Warning] = []
    for key, (label, q) in QUOTED.items():
        needed = int(round(TAIL_SAMPLES / (1.0 - q)))
        if aggregate.get(key) is not None and count < needed:
            warnings.append({
                "kind": "too_few_requests",
                "message": (
                    f"Only {count:,} requests in the steady window: {label} needs at least "
                    f"{needed:,} to rest on a measured tail; treat it as an estimate or run longer."
                ),
            })  # fmt: skip
    return warnings


def _refused(requests: pd.DataFrame) -> pd.Series:
    """Rows of requests the loopback guard refused (never sent)."""
    if "error" not in requests:
        return pd.Series(False, index=requests.index)
    errors = requests["error"].fillna("").astype(str)
    return errors.str.startswith(loopback.REFUSED_ERROR)


def remote_target_refused(requests: pd.DataFrame) -> list[Warning]:
    """Warn when the scenario asked for addresses that are not loopback (refused, not sent).

    Given every request of the run: a refusal in ramp-up matters as much as one in the window.
    """
    refused = requests.loc[_refused(requests)]
    if refused.empty:
        return []
    url = loopback.refused_url(str(refused["error"].iloc[0]))
    return [{
        "kind": "remote_target_refused",
        "message": (
            f"{len(refused):,} requests went to addresses that are not loopback (e.g. {url}) "
            "and were refused, not sent; they count as failed requests (status 0, 0 ms). "
            "Point the scenario at the app under test, or pass --allow-remote-target."
        ),
    }]  # fmt: skip


def connection_failures(requests: pd.DataFrame) -> list[Warning]:
    """Warn when requests got no response at all (status 0: refused, reset, timed out).

    Requests the loopback guard refused are not counted: they were never sent.
    """
    if "status" not in requests:
        return []
    requests = requests.loc[~_refused(requests)]
    failed = int((requests["status"] == 0).sum())
    if not failed:
        return []
    errors = requests.loc[requests["status"] == 0, "error"].dropna()
    example = f" (e.g. {str(errors.iloc[0])[:120]})" if not errors.empty else ""
    return [{
        "kind": "connection_failures",
        "message": (
            f"{failed:,} requests failed to connect or got no response (status 0){example}; "
            "their latency measures the failure, not the service."
        ),
    }]  # fmt: skip


def run_stopped(env: EnvironmentSection, *, duration_s: float | None) -> list[Warning]:
    """Warn when a full disk or a failed write stopped the run before its load ended."""
    stop = env["stopped"]
    if not stop:
        return []
    after, load = stop.get("after_s"), f"its {duration_s:g} s load" if duration_s else "the load"
    when = f" {after:g} s into {load}" if after is not None else ""
    fix = (
        "free space there (or choose another --out) and run again"
        if stop["reason"] == "disk_full"
        else "make the run directory writable (or choose another --out) and run again"
    )
    return [{
        "kind": "run_stopped",
        "message": (
            f"The run was stopped{when}: {stop['detail']}. The figures cover what was "
            f"collected until then; {fix}."
        ),
    }]  # fmt: skip


def load_generator_died(env: EnvironmentSection) -> list[Warning]:
    """Warn for each load-generator process that died before the load's end."""
    warnings: list[Warning] = []
    for death in env["load_deaths"]:
        after = death.get("after_s")
        when = f" {after:g} s into the load" if after is not None else " during the load"
        kept = f"{death['requests']:,} requests"
        if death["role"] == "locust":
            text = (
                f"The load generator (Locust, pid {death['pid']}) {death['how']}{when}; the "
                f"{kept} it sent until then are kept and the run ended there."
            )
        else:
            text = (
                f"Load-generator process {death['pid']} (a Locust worker) {death['how']}{when}; "
                f"its {kept} until then are kept and the other processes ran on, so the load "
                "was lighter from then on."
            )
        warnings.append({"kind": "load_generator_died", "message": text})
    return warnings


def machine_shared(env: EnvironmentSection, *, cores: int | None) -> list[Warning]:
    """Warn when other lagscope runs' processes competed for the CPU during the window."""
    others = env["other_runs"]
    if not others or others["cpu_pct_mean"] < SHARED_CPU_PCT:
        return []
    runs = others["runs"]
    who = f"another lagscope run ({runs[0]})" if len(runs) == 1 else (
        f"{len(runs)} other lagscope runs ({', '.join(runs)})"
    )  # fmt: skip
    of = f" (of the {cores} cores here)" if cores else ""
    return [{
        "kind": "machine_shared",
        "message": (
            f"The machine was shared: {who} ran at the same time, and its processes used "
            f"{others['cpu_pct_mean']:.0f}% of a core{of} on average during the window; "
            "latency, throughput and CPU figures include that contention. Run alone for "
            "clean figures."
        ),
    }]  # fmt: skip


def self_checks(
    *,
    requests: pd.DataFrame,
    resources: pd.DataFrame,
    aggregate: LatencyFigures,
    run_requests: pd.DataFrame,
    loop: LoopSection | None = None,
    environment: EnvironmentSection | None = None,
    duration_s: float | None = None,
    cores: int | None = None,
) -> list[Warning]:
    """Every self-check's warnings over the steady window's data (``run_requests``: every
    request of the run, for the checks about the scenario itself; ``environment``: what
    the machine did to the run, reports.environment)."""
    env: EnvironmentSection = environment or {
        "stopped": None, "load_deaths": [], "other_runs": None,
    }  # fmt: skip
    return [
        *run_stopped(env, duration_s=duration_s),
        *load_generator_died(env),
        *machine_shared(env, cores=cores),
        *remote_target_refused(run_requests),
        *load_generator_saturated(resources),
        *too_few_requests(aggregate),
        *connection_failures(requests),
        *(machine_stalls(loop) if loop is not None else []),
    ]
