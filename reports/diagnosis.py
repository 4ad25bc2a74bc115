"""Diagnosis rules: each reads the processed figures and returns findings with evidence.

A finding is ``{kind, severity, summary, evidence, location, remedy}`` (plus details a
rule adds, such as ``cause`` and ``endpoint``).  Rules are pure functions of the
``Figures`` so they can be tested on data made by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lagscope.reports.rules.dependency import slow_dependency
from lagscope.reports.rules.errors import load_shedding, server_errors
from lagscope.reports.rules.logs import log_flood
from lagscope.reports.rules.no_requests import no_requests
from lagscope.reports.rules.pool import connection_pool_exhaustion
from lagscope.reports.rules.tasks import unbounded_background_tasks
from lagscope.reports.rules.threadpool import threadpool_saturation
from lagscope.reports.wording import plural

Finding = dict[str, Any]

# A blocker is worth a finding when it recurs or when one stall alone is long.
MIN_STALLS = 3
LONG_STALL_MS = 100.0
# Library code (no user frame on the stack) is reported only when it blocks this much.
LIBRARY_SHARE = 0.05
CRITICAL_SHARE = 0.05
CRITICAL_STALL_MS = 500.0

REMEDY = {
    "wait": (
        "Await an async client instead (httpx.AsyncClient, an async DB driver, aiofiles), or "
        "move the blocking call off the loop with `await run_in_threadpool(fn, ...)` / "
        "`await asyncio.to_thread(fn, ...)`; or declare the endpoint with plain `def` so "
        "FastAPI runs it in the threadpool."
    ),
    "cpu": (
        "Move the CPU-bound work off the event loop: a ProcessPoolExecutor via "
        "`loop.run_in_executor` (pure Python), or a thread for C code that releases the GIL "
        "(hashlib, zlib); or precompute/cache the result."
    ),
}


@dataclass(frozen=True)
class Figures:
    """What the rules read: the processed sections of the summary."""

    seconds: float
    run: dict[str, Any]
    requests: dict[str, Any]
    loop: dict[str, Any]
    resources: dict[str, Any]
    gauges: dict[str, Any] = field(default_factory=dict)  # reports.gauges.gauge_figures
    statuses: dict[str, Any] = field(
        default_factory=dict
    )  # reports.statuses.status_figures
    safety: dict[str, Any] = field(default_factory=dict)  # lagscope.reports.gauges.memory_cap
    target_log: str | None = None  # the last line of logs/target.log


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def event_loop_blocking(fig: Figures) -> list[Finding]:
    """One finding per code location that stalled the event loop."""
    workers = max(int(fig.loop.get("workers") or 1), 1)
    loop_ms = fig.seconds * 1000.0 * workers
    findings = []
    for blocker in fig.loop.get("top_blockers", []):
        share = blocker["total_ms"] / loop_ms if loop_ms > 0 else 0.0
        recurring = blocker["count"] >= MIN_STALLS or blocker["max_ms"] >= LONG_STALL_MS
        if not recurring or (not blocker["in_user_code"] and share < LIBRARY_SHARE):
            continue
        cause = blocker.get("cause") or "wait"
        doing = "waiting in a blocking call" if cause == "wait" else "computing (CPU-bound)"
        where = f" in {blocker['endpoint']}" if blocker.get("endpoint") else ""
        critical = share >= CRITICAL_SHARE or blocker["max_ms"] >= CRITICAL_STALL_MS
        agg = fig.requests.get("aggregate", {})
        findings.append(
            {
                "kind": "event_loop_blocking",
                "severity": "critical" if critical else "warning",
                "summary": (
                    f"The event loop was blocked {doing} at {blocker['location']} "
                    f"({blocker['function']}){where}."
                ),
                "evidence": (
                    f"{plural(blocker['count'], 'stall')}, "
                    f"{blocker['total_ms']:,.0f} ms blocked in total "
                    f"({share:.1%} of the loop's time over {plural(workers, 'worker')}), worst "
                    f"{blocker['max_ms']:,.0f} ms; loop lag p99 {_ms(fig.loop.get('lag_p99_ms'))}; "
                    f"request P99 {_ms(agg.get('p99_ms'))}."
                ),
                "location": blocker["location"],
                "endpoint": blocker.get("endpoint"),
                "cause": cause,
                "remedy": REMEDY.get(cause, REMEDY["wait"]),
            }
        )
    return findings


def target_crashed(fig: Figures) -> list[Finding]:
    """The target's server process died while the load ran."""
    if fig.run.get("outcome") != "target_crashed":
        return []
    agg = fig.requests.get("aggregate", {})
    return [
        {
            "kind": "target_crashed",
            "severity": "critical",
            "summary": "The target server exited during the load; the run was cut short.",
            "evidence": (
                f"exit code {fig.run.get('target_exit_code')}; {agg.get('failures', 0)} of "
                f"{agg.get('count', 0)} requests failed. The last lines of logs/target.log say why."
            ),
            "location": "logs/target.log",
            "remedy": (
                "Read logs/target.log for the exception or signal; an exit from the OOM killer "
                "shows as -9 (check RSS in the resources section)."
            ),
        }
    ]


RULES: list[Callable[[Figures], list[Finding]]] = [
    no_requests,
    target_crashed,
    event_loop_blocking,
    connection_pool_exhaustion,
    unbounded_background_tasks,
    threadpool_saturation,
    slow_dependency,
    log_flood,
    server_errors,
    load_shedding,
]
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def diagnose(fig: Figures) -> list[Finding]:
    """Every rule's findings, most severe first."""
    findings = [finding for rule in RULES for finding in rule(fig)]
    return sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f["severity"], 9))
