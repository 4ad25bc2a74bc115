"""``memory_growth``: a worker's resident memory grows steadily through the window.

Memory that climbs at a steady rate under a steady load is retained, not used: a cache
without a bound, a list that only grows, objects kept alive by a reference.  Growth that
pending tasks explain is ``unbounded_background_tasks``'s, not this rule's.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import workers
from lagscope.reports.rules.tasks import MIN_GROWTH_PER_S as TASKS_GROWTH_PER_S

MIN_GROWTH_MB = 50.0  # more resident memory at the end than at the start of the window
MIN_GROWTH_MB_PER_S = 2.0
REMEDY = (
    "Find what retains memory: compare two `tracemalloc` snapshots taken a minute apart "
    "under load (`snapshot.compare_to(before, 'lineno')`), or run the worker under memray; "
    "bound every cache (`functools.lru_cache(maxsize=...)`, a TTL cache) and drop references "
    "to request data once the response is sent."
)


def memory_growth(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    for pid, w in workers(fig):
        rss, tasks = w.get("rss_mb") or {}, w.get("tasks") or {}
        if not rss or tasks.get("growth_per_s", 0.0) >= TASKS_GROWTH_PER_S:
            continue
        growth = rss["end"] - rss["start"]
        rate = float(rss.get("growth_per_s") or 0.0)
        if growth < MIN_GROWTH_MB or rate < MIN_GROWTH_MB_PER_S:
            continue
        cap = fig.safety["memory_cap_mb"] if pid in fig.safety["workers_at_cap"] else None
        findings.append(
            {
                "kind": "memory_growth",
                "severity": "critical" if cap is not None else "warning",
                "summary": f"The resident memory of worker {pid} grew steadily, "
                f"{rate:,.1f} MB/s: something retains memory.",
                "evidence": (
                    f"RSS {rss['start']:,.0f} → {rss['end']:,.0f} MB (max {rss['max']:,.0f} MB) "
                    f"over {fig.seconds:,.0f} s, {rate:,.1f} MB/s"
                    + (f"; the memory cap of {cap:g} MB was reached" if cap is not None else "")
                    + "; pending tasks steady."
                ),  # fmt: skip
                "location": f"worker {pid}",
                "remedy": REMEDY,
            }
        )
    return findings
