"""Helpers and thresholds shared by the rules.

The thresholds are chosen so that a healthy service at moderate load stays well below
them on a busy two-core machine, while each seeded fault crosses them within seconds.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures
from lagscope.reports.summary_types import LatencyFigures, PoolFigures, WorkerGauges

# A pool (DB or threads) counts as exhausted when it was full, with callers waiting,
# in at least this share of the samples.
SATURATED_SHARE = 0.5
# Loop time lost to stalls above which slow requests are blamed on the loop, not outside.
LOOP_BLOCKED_SHARE = 0.05


def workers(fig: Figures) -> list[tuple[str, WorkerGauges]]:
    """(pid, gauge figures) of every worker that reported gauges."""
    return sorted(fig.gauges.get("workers", {}).items())


def exhausted(pool: PoolFigures) -> bool:
    """The pool was full with callers waiting for a large share of the window."""
    return bool(
        pool.get("capacity")
        and pool.get("saturated_share", 0.0) >= SATURATED_SHARE
        and pool.get("waiting_max", 0) >= 1
    )


def loop_blocked_share(fig: Figures) -> float:
    workers_n = max(int(fig.loop.get("workers") or 1), 1)
    loop_ms = fig.seconds * 1000.0 * workers_n
    return float(fig.loop.get("stall_total_ms") or 0.0) / loop_ms if loop_ms > 0 else 0.0


def endpoints(fig: Figures) -> dict[str, LatencyFigures]:
    return dict(fig.requests.get("endpoints", {}))


def worst_endpoint(fig: Figures) -> str | None:
    """The endpoint with the most failures, else the highest P99."""
    eps = endpoints(fig)
    if not eps:
        return None
    return max(eps, key=lambda k: (eps[k].get("failures", 0), eps[k].get("p99_ms") or 0.0))


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def size(nbytes: float) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if nbytes >= factor:
            return f"{nbytes / factor:,.1f} {unit}"
    return f"{nbytes:,.0f} B"


def where(site: str | None, endpoint: str | None) -> str:
    """The location of a finding: a code site when known, else the endpoint."""
    return site or endpoint or "<unknown>"
