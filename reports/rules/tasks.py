"""``unbounded_background_tasks``: pending asyncio tasks grow steadily through the run."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import where, workers

MIN_GROWTH = 100  # more pending tasks at the end than at the start of the window
MIN_GROWTH_PER_S = 5.0
REMEDY = (
    "Do not fire one task per request: put the work on a bounded `asyncio.Queue` drained by "
    "a fixed number of worker tasks (or a job queue), and answer 503/429 with Retry-After "
    "when it is full."
)


def unbounded_background_tasks(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    for pid, w in workers(fig):
        tasks, rss = w.get("tasks") or {}, w.get("rss_mb") or {}
        if not tasks:
            continue
        growth = tasks["end"] - tasks["start"]
        if growth < MIN_GROWTH or tasks["growth_per_s"] < MIN_GROWTH_PER_S:
            continue
        cap = fig.safety if fig.safety.get("cap_hit") else None
        findings.append(
            {
                "kind": "unbounded_background_tasks",
                "severity": "critical",
                "summary": (
                    f"Pending asyncio tasks in worker {pid} grew without bound "
                    f"({tasks['start']:.0f} → {tasks['end']:.0f})"
                    + (f"; most wait at {tasks['wait_top']}" if tasks.get("wait_top") else "")
                    + "."
                ),
                "evidence": (
                    f"pending tasks {tasks['start']:.0f} → {tasks['end']:.0f} (max "
                    f"{tasks['max']}, +{tasks['growth_per_s']:.0f}/s) over {fig.seconds:.0f} s; "
                    f"up to {tasks['wait_top_max']} waited at the same line"
                    + (
                        f"; RSS {rss['start']:.0f} → {rss['end']:.0f} MB (max {rss['max']:.0f} MB)"
                        if rss
                        else ""
                    )
                    + (
                        f"; the memory cap of {cap['memory_cap_mb']:.0f} MB was hit, so the "
                        "seeded fault stopped growing"
                        if cap
                        else ""
                    )
                    + "."
                ),
                "location": where(tasks.get("wait_top"), None),
                "endpoint": None,
                "remedy": REMEDY,
            }
        )
    return findings
