"""``event_loop_blocking``: one finding per code location that stalled the event loop."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.wording import plural

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


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def event_loop_blocking(fig: Figures) -> list[Finding]:
    """One finding per code location that stalled the event loop."""
    workers = max(int(fig.loop.get("workers") or 1), 1)
    loop_ms = fig.seconds * 1000.0 * workers
    findings: list[Finding] = []
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
