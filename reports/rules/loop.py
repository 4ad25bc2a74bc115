"""``event_loop_blocking``: one finding per code location that stalled the event loop.

Stalls put on the garbage collector (``<gc genN>``, see ``reports.gcpauses``) are left to
``gc_pauses``: the line they interrupted did not block.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.gcpauses import is_gc_location
from lagscope.reports.summary_types import Blocker
from lagscope.reports.wording import plural

from lagscope.stalls import DOING, REMEDY

# A blocker is worth a finding when it recurs or when one stall alone is long.
MIN_STALLS = 3
LONG_STALL_MS = 100.0
# Library code (no user frame on the stack) is reported only when it blocks this much.
LIBRARY_SHARE = 0.05
CRITICAL_SHARE = 0.05
CRITICAL_STALL_MS = 500.0


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


INJECTED_REMEDY = (
    "Nothing to fix in the app: lagscope's injector blocked the loop on purpose. Read what "
    "the rehearsal shows: which alerts fired and how soon, which endpoints slowed while the "
    "loop was held, and how fast they recovered once the fault was cleared."
)


def _injected_finding(blocker: Blocker, share: float, workers: int) -> Finding:
    kind = str(blocker["function"])
    doing = "sleeping" if blocker.get("cause") != "cpu" else "computing"
    return {
        "kind": "event_loop_blocking",
        "severity": "critical" if share >= CRITICAL_SHARE else "warning",
        "summary": f"Injected {kind}: the fault injector blocked the event loop ({doing}), "
        "not the app's code.",
        "evidence": (
            f"{plural(blocker['count'], 'stall')} of {blocker['max_ms']:,.0f} ms at worst, "
            f"{blocker['total_ms']:,.0f} ms blocked in total ({share:.1%} of the loop's time "
            f"over {plural(workers, 'worker')})."
        ),
        "location": blocker["location"],
        "endpoint": None,
        "cause": blocker.get("cause") or "wait",
        "injected": [kind],
        "remedy": INJECTED_REMEDY,
    }


def event_loop_blocking(fig: Figures) -> list[Finding]:
    """One finding per code location that stalled the event loop."""
    workers = max(int(fig.loop.get("workers") or 1), 1)
    loop_ms = fig.seconds * 1000.0 * workers
    findings: list[Finding] = []
    for blocker in fig.loop.get("top_blockers", []):
        if is_gc_location(blocker["location"]):
            continue  # the collector's stalls: gc_pauses reports them
        share = blocker["total_ms"] / loop_ms if loop_ms > 0 else 0.0
        recurring = blocker["count"] >= MIN_STALLS or blocker["max_ms"] >= LONG_STALL_MS
        if recurring and str(blocker["location"]).startswith("<injected "):
            findings.append(_injected_finding(blocker, share, workers))
            continue
        if not recurring or (not blocker["in_user_code"] and share < LIBRARY_SHARE):
            continue
        cause = blocker.get("cause") or "wait"
        doing = DOING.get(cause, DOING["wait"])
        where = f" in {blocker['endpoint']}" if blocker.get("endpoint") else ""
        critical = share >= CRITICAL_SHARE or blocker["max_ms"] >= CRITICAL_STALL_MS
        agg = fig.requests.get("aggregate", {})
        finding: Finding = {
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
        }  # fmt: skip
        held = blocker.get("injected")
        if held:
            # A call the injector held on the loop (a sync client's, a sync engine's): still
            # the app's line that blocked, lengthened by the fault.
            finding["injected"] = [held]
        findings.append(finding)
    return findings
