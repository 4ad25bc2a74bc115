"""``threadpool_saturation``: every thread of anyio's default limiter busy, callers queued.

Found when the pool was full with callers waiting in most samples, or when its queue grew
steadily through the window (``reports.trend``): more calls arrive than its threads
finish, whatever the share of samples so far.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import (
    endpoints,
    exhausted,
    grows,
    ms,
    rps,
    trend_words,
    where,
    workers,
)

QUEUE_PER_REQUEST = 0.001  # callers added to the queue per request served
QUEUE_MIN_RISE = 5.0

REMEDY = (
    "Replace blocking calls in `def` endpoints and dependencies with async clients awaited in "
    "`async def`, or give the blocking dependency its own `anyio.CapacityLimiter`; raising the "
    "default 40 threads only moves the queue."
)


def _slowest(fig: Figures) -> str | None:
    eps = endpoints(fig)
    return max(eps, key=lambda k: eps[k].get("p50_ms") or 0.0) if eps else None


def threadpool_saturation(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    load = rps(fig)
    for pid, w in workers(fig):
        threads = w.get("threads", {})
        growth = w.get("growth")
        queue = growth["threads_waiting"] if growth else None
        growing = grows(queue, per_request=QUEUE_PER_REQUEST, rps=load, min_rise=QUEUE_MIN_RISE)
        if not threads.get("capacity") or not (exhausted(threads) or growing):
            continue
        endpoint = _slowest(fig)
        slowest = endpoints(fig).get(endpoint or "")
        p50 = slowest.get("p50_ms") if slowest else None
        findings.append(
            {
                "kind": "threadpool_saturation",
                "severity": "critical" if threads["saturated_share"] >= 0.5 else "warning",
                "summary": (
                    f"The threadpool of worker {pid} (anyio's default limiter, "
                    f"{threads['capacity']} threads) was full; calls queued for a thread"
                    + (f", slowest endpoint {endpoint}" if endpoint else "")
                    + "."
                ),
                "evidence": (
                    f"all {threads['capacity']} threads busy in {threads['saturated_share']:.0%} "
                    f"of {w['samples']} samples (mean busy {threads['busy_mean']:.0f}); up to "
                    f"{threads['waiting_max']} callers waiting for a thread; {endpoint} p50 "
                    f"{ms(p50)}; loop lag p99 {ms(fig.loop.get('lag_p99_ms'))}"
                    + (
                        f"; pending tasks waited at {threads['wait_site']}"
                        if threads.get("wait_site")
                        else ""
                    )  # fmt: skip
                    + (
                        f"; the queue grew steadily, {trend_words(queue)}"
                        if queue and growing
                        else ""
                    )
                    + "."
                ),
                "location": where(threads.get("wait_site"), endpoint),
                "endpoint": endpoint,
                "remedy": REMEDY,
            }
        )
    return findings
