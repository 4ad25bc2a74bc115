"""``memory_growth``: a worker's resident memory grows steadily and does not level off.

Judged by shape (``reports.trend``) with floors relative to the load: at least
``PER_REQUEST_KB`` kept per request served and ``MIN_SHARE`` of the starting RSS over the
window.  A cache that warms up and plateaus levels off; a burst that is freed drains.
When growing tasks or leaked sessions explain the memory, their own findings say so
(with the same projection) and this one stays silent.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules import sessions, tasks
from lagscope.reports.rules.common import grows, memory_projection, rps, trend_words, workers

PER_REQUEST_KB = 1.0
# Of the worker's RSS at the start of the window.  A service that has just started still
# warms its caches and allocator through a short run: measured here 3–6% over 12 s.
MIN_SHARE = 0.1
MIN_RISE_MB = 2.0
REMEDY = (
    "Find what keeps growing: a module-level dict or list used as a cache without a bound "
    "(use `functools.lru_cache(maxsize=...)` or a TTL cache), objects kept alive by a closure, "
    "a task or a registry; two `tracemalloc` snapshots a minute apart "
    "(`snapshot.compare_to(earlier, 'lineno')`) name the allocating line."
)


def memory_growth(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    load = rps(fig)
    for pid, w in workers(fig):
        growth = w.get("growth")
        rss = growth["rss_mb"] if growth else None
        if not rss or tasks.leaks(w, load) or sessions.leaks(w, load):
            continue
        floor = max(MIN_RISE_MB, MIN_SHARE * float(rss["start"]))
        if not grows(rss, per_request=PER_REQUEST_KB / 1000, rps=load, min_rise=floor):
            continue
        kept_kb = float(rss["slope_per_s"]) * 1000 / load if load > 0 else None
        findings.append(
            {
                "kind": "memory_growth",
                "severity": "warning",
                "summary": (
                    f"The resident memory of worker {pid} grows steadily and does not level "
                    f"off ({rss['start']:,.0f} → {rss['end']:,.0f} MB)"
                    + memory_projection(rss, fig)
                    + "."
                ),
                "evidence": (
                    f"RSS {trend_words(rss, 'MB')}"
                    + (f"; {kept_kb:,.1f} KB kept per request served" if kept_kb else "")
                    + "; pending tasks and DB sessions do not grow."
                ),
                "location": f"worker {pid}",
                "endpoint": None,
                "remedy": REMEDY,
            }
        )
    return findings
