"""``unbounded_background_tasks``: pending asyncio tasks grow steadily through the window.

Judged by shape, not by rate (``reports.trend``): the tasks waiting at one site (or all
pending tasks) grow through the whole window and neither level off nor drain, by at
least one task per ``1 / PER_REQUEST`` requests served.  A slow leak (a few tasks a
second) is a leak as much as a fast one; a burst of tasks that drains is not.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import (
    grows,
    memory_projection,
    rps,
    trend_words,
    where,
    workers,
)
from lagscope.reports.summary_types import SiteTrend, Trend, WorkerGauges

PER_REQUEST = 0.002  # tasks left behind per request served: one in 500
MIN_RISE = 5.0  # tasks
CRITICAL_PER_REQUEST = 0.01
REMEDY = (
    "Do not fire one task per request: put the work on a bounded `asyncio.Queue` drained by "
    "a fixed number of worker tasks (or a job queue), and answer 503/429 with Retry-After "
    "when it is full."
)


def leaking_site(w: WorkerGauges, load: float) -> SiteTrend | None:
    """The wait site whose tasks grow the most, if any grows like a leak."""
    growth = w.get("growth")
    sites = growth["task_sites"] if growth else []
    found = [s for s in sites if grows(s, per_request=PER_REQUEST, rps=load, min_rise=MIN_RISE)]
    return max(found, key=lambda s: s["rise"]) if found else None


def leaks(w: WorkerGauges, load: float) -> bool:
    """The worker's pending tasks, at one site or in all, grow like a leak."""
    growth = w.get("growth")
    total = growth["tasks"] if growth else None
    return leaking_site(w, load) is not None or grows(
        total, per_request=PER_REQUEST, rps=load, min_rise=MIN_RISE
    )


def unbounded_background_tasks(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    load = rps(fig)
    for pid, w in workers(fig):
        if not leaks(w, load):
            continue
        growth = w["growth"]
        site = leaking_site(w, load)
        total: Trend | None = growth["tasks"] or site
        grown: Trend | None = site or total
        if total is None or grown is None:
            continue
        where_ = site["site"] if site else w["tasks"].get("wait_top")
        slope = float(grown["slope_per_s"])
        per_request = slope / load if load > 0 else None
        rss = growth["rss_mb"]
        projection = memory_projection(rss, fig)
        cap = fig.safety if fig.safety.get("cap_hit") else None
        findings.append(
            {
                "kind": "unbounded_background_tasks",
                "severity": "critical"
                if projection or (per_request or 0) >= CRITICAL_PER_REQUEST
                else "warning",
                "summary": (
                    f"Pending asyncio tasks in worker {pid} grow steadily and do not drain"
                    + (
                        f": those waiting at {where_} went {grown['start']:.0f} → "
                        f"{grown['end']:.0f}."
                        if site
                        else f" ({grown['start']:.0f} → {grown['end']:.0f})"
                        + (f"; most wait at {where_}." if where_ else ".")
                    )
                ),
                "evidence": (
                    f"pending tasks {trend_words(total)}"
                    + (f"; at {site['site']}: {trend_words(site)}" if site else "")
                    + (
                        f"; one task left behind per {1 / per_request:,.0f} requests "
                        f"({load:,.0f} req/s)"
                        if per_request
                        else ""
                    )
                    + (f"; RSS {trend_words(rss, 'MB')}" if rss else "")
                    + projection
                    + (
                        f"; the memory cap of {cap['memory_cap_mb']:.0f} MB was hit, so the "
                        "seeded fault stopped growing (judged before it)"
                        if cap
                        else ""
                    )
                    + "."
                ),
                "location": where(where_, None),
                "endpoint": None,
                "remedy": REMEDY,
            }
        )
    return findings
