"""``slow_dependency``: an endpoint is slow while the process itself is idle and unblocked.

When the loop is not blocked (in stalls long enough to explain it), no pool is
exhausted, and one endpoint's median latency is long and far above the others', the time
goes to waiting on something outside the process: a downstream API or a database.  The
probe shows where the waiting tasks are suspended (the innermost user frame of their
await chain).
"""

from __future__ import annotations

import statistics

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import (
    LOOP_BLOCKED_SHARE,
    endpoints,
    exhausted,
    loop_blocked_share,
    ms,
    where,
    workers,
)

SLOW_P50_MS = 1000.0
RATIO = 5.0  # times the median p50 of the other endpoints
MIN_COUNT = 10
STALL_SHARE_OF_P50 = 0.5  # stalls this long against the median can account for it
REMEDY = (
    "Give every outbound call a timeout below your own latency objective (httpx: `timeout=`), "
    "and fail fast when the dependency degrades: a circuit breaker answering 503 with "
    "Retry-After, retries only with backoff and jitter."
)


def _wait_site(fig: Figures, endpoint: str) -> str | None:
    sites = [w.get("request_waits", {}).get(endpoint) for _, w in workers(fig)]
    sites = [s for s in sites if s]
    return statistics.mode(sites) if sites else None


def _loop_explains(fig: Figures, p50_ms: float) -> bool:
    """The loop was blocked often, in stalls long enough to make up a median request of
    ``p50_ms``: event_loop_blocking says so.  (On a busy machine a loop blocked 5% of the
    time in stalls of 100 ms does not make a 3 s median.)"""
    longest = float(fig.loop.get("lag_max_ms") or 0.0)
    return loop_blocked_share(fig) >= LOOP_BLOCKED_SHARE and longest >= STALL_SHARE_OF_P50 * p50_ms


def slow_dependency(fig: Figures) -> list[Finding]:
    if any(exhausted(w.get("db", {})) or exhausted(w.get("threads", {})) for _, w in workers(fig)):
        return []  # a pool explains it
    eps = endpoints(fig)
    findings: list[Finding] = []
    for name, e in sorted(eps.items()):
        p50 = e.get("p50_ms") or 0.0
        if e.get("count", 0) < MIN_COUNT or p50 < SLOW_P50_MS or _loop_explains(fig, p50):
            continue
        others = [p for k, o in eps.items() if k != name and (p := o.get("p50_ms")) is not None]
        base = statistics.median(others) if others else None
        if base is not None and p50 < RATIO * max(base, 1.0):
            continue
        site = _wait_site(fig, name)
        target = fig.resources.get("target")
        cpu = target.get("cpu_pct_mean") if target else None
        findings.append(
            {
                "kind": "slow_dependency",
                "severity": "critical",
                "summary": (
                    f"{name} spends its time waiting on something outside the process"
                    + (f", at {site}" if site else "")
                    + "."
                ),
                "evidence": (
                    f"{name}: p50 {ms(p50)}, p99 {ms(e.get('p99_ms'))} over {e['count']} "
                    f"requests"
                    + (f" (other endpoints' median p50 {ms(base)})" if base is not None else "")
                    + f"; meanwhile loop lag p99 {ms(fig.loop.get('lag_p99_ms'))}"
                    + (f", target CPU {cpu:.0f}%" if cpu is not None else "")
                    + ", no pool exhausted."
                ),
                "location": where(site, name),
                "endpoint": name,
                "remedy": REMEDY,
            }
        )
    return findings
