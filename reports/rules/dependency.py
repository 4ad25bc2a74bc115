"""``slow_dependency``: an endpoint is slow while the process itself is idle and unblocked.

When the loop is not blocked (in stalls long enough to explain it), no pool is
exhausted, and one endpoint's median latency is long and far above the others', the time
goes to waiting on something outside the process: a downstream API or a database.  The
probe shows where the waiting tasks are suspended (the innermost user frame of their
await chain).

When the slow endpoints do not stand out (every endpoint is slow: they share the
dependency, as many services do) there is no fast endpoint to compare with: then the
process must be seen idle instead — the loop's lag a small part of the latency, the
target's CPU far from a core a worker — and the requests' tasks seen suspended at the
app's lines: one finding names them.
"""

from __future__ import annotations

import statistics
from collections import Counter

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
from lagscope.reports.summary_types import LatencyFigures

SLOW_P50_MS = 1000.0
RATIO = 5.0  # times the median p50 of the other endpoints
MIN_COUNT = 10
STALL_SHARE_OF_P50 = 0.5  # stalls this long against the median can account for it
# Every endpoint slow: the process is idle when its loop lags under this share of the
# fastest median, and its workers use under this much of a core each.
IDLE_LAG_SHARE = 0.1
IDLE_CPU_PCT = 70.0
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


def _target_cpu(fig: Figures) -> float | None:
    target = fig.resources.get("target")
    return target.get("cpu_pct_mean") if target else None


def _slow_endpoints_wait(fig: Figures, eps: dict[str, LatencyFigures]) -> list[Finding]:
    """One finding when the slow endpoints are too many, or too alike the others, to stand
    out, while the process is idle."""
    counted = {k: e for k, e in eps.items() if e.get("count", 0) >= MIN_COUNT}
    slow = {k: e for k, e in counted.items() if (e.get("p50_ms") or 0.0) >= SLOW_P50_MS}
    if not slow:
        return []
    medians = [e.get("p50_ms") or 0.0 for e in slow.values()]
    if _loop_explains(fig, min(medians)):
        return []
    lag = float(fig.loop.get("lag_p99_ms") or 0.0)
    cpu = _target_cpu(fig)
    per_worker = None if cpu is None else cpu / max(int(fig.loop.get("workers") or 1), 1)
    if lag >= IDLE_LAG_SHARE * min(medians) or (
        per_worker is not None and per_worker >= IDLE_CPU_PCT
    ):
        return []
    sites = Counter(s for k in slow if (s := _wait_site(fig, k)))
    if not sites:
        return []  # no sight of the requests waiting: nothing says where the time goes
    by_median = sorted(slow, key=lambda k: -(slow[k].get("p50_ms") or 0.0))
    listed = ", ".join(f"{k} {ms(slow[k].get('p50_ms'))}" for k in by_median[:5])
    more = f" and {len(slow) - 5} more" if len(slow) > 5 else ""
    site_list = ", ".join(s for s, _ in sites.most_common(3))
    which = (
        "Every endpoint spends its" if len(slow) == len(counted)
        else f"{len(slow)} of {len(counted)} endpoints spend their" if len(slow) > 1
        else f"{by_median[0]} spends its"
    )  # fmt: skip
    return [{
        "kind": "slow_dependency",
        "severity": "critical",
        "summary": f"{which} time waiting on something outside the process, at {site_list}.",
        "evidence": (
            f"p50 {listed}{more}: too many endpoints, or too alike, for one to stand out "
            f"against the others; meanwhile the process was idle: loop lag p99 {ms(lag)}"
            + (f", target CPU {cpu:.0f}%" if cpu is not None else "")
            + ", no pool exhausted; the requests' tasks were seen suspended at "
            + f"{site_list}."
        ),
        "location": sites.most_common(1)[0][0],
        "endpoint": by_median[0],
        "remedy": REMEDY,
    }]  # fmt: skip


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
        cpu = _target_cpu(fig)
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
    return findings or _slow_endpoints_wait(fig, eps)
