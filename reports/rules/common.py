"""Helpers and thresholds shared by the rules.

The thresholds are chosen so that a healthy service at moderate load stays well below
them on a busy two-core machine, while each seeded fault crosses them within seconds.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures
from lagscope.reports.summary_types import LatencyFigures, PoolFigures, Trend, WorkerGauges
from lagscope.reports.trend import time_to

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


# A gauge leaks when its shape is "growing" (reports.trend: steady through the window,
# not levelling off, not drained) and its rise stands out of its own noise; each rule
# adds a floor relative to the load (per request served).
NOISE_WIDTHS = 4.0


def rps(fig: Figures) -> float:
    """Requests per second served over the window (all endpoints)."""
    return float(fig.requests.get("aggregate", {}).get("rps") or 0.0)


def grows(found: Trend | None, *, per_request: float, rps: float, min_rise: float) -> bool:
    """``found`` (a reports.trend figure) grows steadily, by at least ``min_rise`` and
    ``NOISE_WIDTHS`` of its noise over the window (the fitted rise or the gain from start
    to end, whichever is larger: a leak that began mid-window fits a line poorly), and by
    at least ``per_request`` per request served (when requests were served)."""
    if not found or found.get("shape") != "growing":
        return False
    rise = max(float(found["rise"]), float(found["end"]) - float(found["start"]))
    if rise < min_rise or rise < NOISE_WIDTHS * float(found.get("noise") or 0.0):
        return False
    return rps <= 0 or float(found["slope_per_s"]) / rps >= per_request


def duration(seconds: float) -> str:
    """``41 s``, ``12 min``, ``3.5 h``, ``2.1 days``: a projection in words."""
    if seconds < 90:
        return f"{seconds:,.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:,.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.1f} days"


def trend_words(found: Trend, unit: str = "") -> str:
    """``4 → 80 over 20 s (+3.1/s, Mann–Kendall p < 0.001)``."""
    p = float(found["p_value"])
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    u = f" {unit}" if unit else ""
    start, end = float(found["start"]), float(found["end"])
    digits = 1 if 0 < abs(end - start) < 10 and unit else 0  # 76.2 → 76.9 MB, not 76 → 77
    return (
        f"{start:,.{digits}f} → {end:,.{digits}f}{u} over {found['seconds']:,.0f} s "
        f"(Theil–Sen {found['slope_per_s']:+,.2f}{u}/s, Mann–Kendall {p_text})"
    )


def memory_projection(rss: Trend | None, fig: Figures) -> str:
    """``; at this rate the worker reaches 512 MB in 41 min`` from an RSS trend that grows,
    toward the run's memory cap (``--memory-cap``); empty when RSS does not grow."""
    cap = fig.safety.get("memory_cap_mb")
    if not rss or rss.get("shape") != "growing" or not cap:
        return ""
    seconds = time_to(float(cap), level=float(rss["end"]), slope_per_s=float(rss["slope_per_s"]))
    if seconds is None:
        return ""
    if seconds == 0:
        return f"; the worker is at the memory cap of {cap:,.0f} MB"
    return f"; at this rate the worker reaches {cap:,.0f} MB in {duration(seconds)}"
