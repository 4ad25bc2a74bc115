"""Rows and lines shared by the renderers: the percentile table as plain values, the loop
line, what an interruption means for the figures."""

from __future__ import annotations

from lagscope.reports.injected import describe
from lagscope.reports.summary_types import (
    PERCENTILE_KEYS,
    LoopSection,
    RequestsSection,
    RunSection,
    Summary,
)
from lagscope.reports.wording import plural

HEADERS = ["endpoint", "count", "fail", "rps", "p50", "p90", "p95", "p99", "p99.9", "max"]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def percentile_rows(requests: RequestsSection) -> list[list[str]]:
    """One row per endpoint, then the aggregate; latencies in ms."""
    rows = []
    items = [*sorted(requests.get("endpoints", {}).items()), ("all", requests.get("aggregate"))]
    for name, fig in items:
        if not fig:
            continue
        rows.append(
            [name, str(fig["count"]), str(fig["failures"]), f"{fig['rps']:.1f}"]
            + [_ms(fig.get(k)) for k in PERCENTILE_KEYS]
        )
    return rows


def loop_line(loop: LoopSection) -> str:
    if not loop.get("heartbeats"):
        return "event loop not observed (the probe was off or recorded nothing)"
    unsampled = loop.get("unsampled_stalls") or 0
    machine = loop.get("machine_stalls") or 0
    workers = int(loop.get("workers") or 0)
    return (
        f"loop lag p50 {_ms(loop.get('lag_p50_ms'))} ms, p99 {_ms(loop.get('lag_p99_ms'))} ms, "
        f"max {_ms(loop.get('lag_max_ms'))} ms; {plural(loop.get('stall_count', 0), 'stall')}, "
        f"{loop.get('stall_total_ms', 0):,.0f} ms blocked ({plural(workers, 'worker')})"
        + (f"; {plural(unsampled, 'more beat')} over the threshold ended before they could be "
           "sampled" if unsampled else "")
        + (f"; {machine} of the stalls ({loop.get('machine_stall_ms', 0):,.0f} ms) were the "
           "machine's: under the threshold but for the loop thread's waits for a CPU"
           if machine else "")
    )  # fmt: skip


def interruption_line(run: RunSection) -> str | None:
    """One sentence when the run was interrupted (Ctrl-C, SIGTERM), else None."""
    if run.get("outcome") != "interrupted":
        return None
    after, planned = run.get("interrupted_after_s"), run.get("duration_s")
    if after is None:  # a run directory from before the ``interrupted`` event
        return "Interrupted: the report covers what was collected until then."
    if after == 0:
        return "Interrupted before the load started: there is nothing to measure."
    of = f" of the {planned:g} s load" if planned else ""
    return f"Interrupted after {after:g} s{of}: the report covers what was collected until then."


def injected_lines(summary: Summary) -> list[str]:
    """One line per fault the probe's injector applied, times from the window's start."""
    t0 = summary["window"]["start"]
    return [describe(w, t0=t0) for w in summary.get("injected") or []]
