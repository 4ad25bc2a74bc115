"""``session_leak``: DB sessions opened and never closed, holding more connections over time.

A session still in a transaction 2 s or more after it opened holds a connection (the
probe counts them, and names where they were opened).  When their number grows steadily
through the window (``reports.trend``), the sessions leak: the pool is not exhausted yet
(``connection_pool_exhaustion`` takes over once it is), but at the measured slope it will
be.  A busy pool whose connections come back does not grow: its sessions close.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import (
    duration,
    exhausted,
    grows,
    rps,
    trend_words,
    where,
    workers,
)
from lagscope.reports.rules.pool import REMEDY
from lagscope.reports.summary_types import PoolFigures, Trend, WorkerGauges
from lagscope.reports.trend import time_to

PER_REQUEST = 0.001  # sessions left open per request served: one in 1,000
MIN_RISE = 2.0  # sessions


def leaks(w: WorkerGauges, load: float) -> bool:
    """The worker's held sessions grow like a leak (and its pool is not exhausted yet)."""
    growth = w.get("growth")
    held = growth["db_held"] if growth else None
    return not exhausted(w.get("db", {})) and grows(
        held, per_request=PER_REQUEST, rps=load, min_rise=MIN_RISE
    )


def _runs_out(db: PoolFigures, checked_out: Trend | None, slope: float) -> str:
    capacity = db.get("capacity")
    if not capacity:
        return "; the pool has no bound: the database's own connection limit is next"
    level = float(checked_out["end"]) if checked_out else 0.0
    seconds = time_to(float(capacity), level=level, slope_per_s=slope)
    if seconds is None:
        return ""
    return (
        f"; at this rate the pool's {capacity} connections run out in {duration(seconds)}, "
        "then requests wait for one and fail"
    )


def session_leak(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    load = rps(fig)
    for pid, w in workers(fig):
        held = w["growth"]["db_held"] if leaks(w, load) else None
        if held is None:
            continue
        db, checked_out = w["db"], w["growth"]["db_checked_out"]
        site = held.get("site")
        slope = float(held["slope_per_s"])
        findings.append(
            {
                "kind": "session_leak",
                "severity": "critical",
                "summary": (
                    f"DB sessions of worker {pid} are opened and never closed"
                    + (f", at {site}" if site else "")
                    + f": the connections they hold grow steadily ({held['start']:.0f} → "
                    f"{held['end']:.0f})."
                ),
                "evidence": (
                    f"sessions still in a transaction 2 s or more after they opened: "
                    f"{trend_words(held)}"
                    + (f", one per {load / slope:,.0f} requests" if load > 0 and slope > 0 else "")
                    + (
                        f"; connections checked out {trend_words(checked_out)}"
                        if checked_out
                        else ""
                    )
                    + _runs_out(db, checked_out, slope)
                    + "."
                ),
                "location": where(site, None),
                "endpoint": None,
                "remedy": REMEDY,
            }
        )
    return findings
