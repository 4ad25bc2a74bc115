"""Open-model (``--rate``) runs: the plan's window, uncorrected figures and the sender's accuracy.

In rate mode every request has an intended send time (``intended_t``); its
``latency_ms`` counts from there (corrected for coordinated omission) and
``uncorrected_ms`` from the actual send. Pure functions of the loaded frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lagscope.reports.latency import latency_table
from lagscope.reports.summary_types import (
    LatencyFigures,
    OpenModelSection,
    Percentiles,
    RequestsSection,
)
from lagscope.reports.window import Window

LATE_MS = 10.0  # a send later than this after its slot counts as late


def plan_events(events: pd.DataFrame) -> pd.DataFrame:
    """The ``plan_start`` events (one per load-generator process); empty in closed mode."""
    if "event" not in events:
        return events.iloc[0:0]
    return events.loc[events["event"] == "plan_start"]


def plan_window(plans: pd.DataFrame) -> Window:
    """From the first process's first slot to the end of the last process's plan."""
    start = float(plans["start"].min())
    end = float((plans["start"] + plans["duration_s"]).max())
    return Window(start=start, end=end, basis="plan_start → end of plan (intended send times)")


def with_uncorrected(
    table: RequestsSection, requests: pd.DataFrame, *, seconds: float
) -> RequestsSection:
    """``table`` (from latency_table, corrected) with the uncorrected percentiles beside each
    figure set under ``"uncorrected"``."""
    raw = latency_table(requests.assign(latency_ms=requests["uncorrected_ms"]), seconds=seconds)
    pairs = [(table["aggregate"], raw["aggregate"])]
    pairs += [(table["endpoints"][key], raw["endpoints"][key]) for key in table["endpoints"]]
    for corrected, uncorrected in pairs:
        corrected["uncorrected"] = percentiles(uncorrected)
    return table


def percentiles(figures: LatencyFigures) -> Percentiles:
    """The latency figures of ``figures`` alone (P50 … max)."""
    return {
        "p50_ms": figures["p50_ms"],
        "p90_ms": figures["p90_ms"],
        "p95_ms": figures["p95_ms"],
        "p99_ms": figures["p99_ms"],
        "p999_ms": figures["p999_ms"],
        "max_ms": figures["max_ms"],
    }


def _events(events: pd.DataFrame, name: str) -> pd.DataFrame:
    return events.loc[events["event"] == name] if "event" in events else events.iloc[0:0]


def _int_sum(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].fillna(0).sum()) if column in frame else 0


def sender_figures(
    requests: pd.DataFrame, events: pd.DataFrame, *, seconds: float
) -> OpenModelSection:
    """How the plan was kept: rate asked and sent, send lateness, the pool, the stragglers."""
    plans = plan_events(events)
    ends = _events(events, "plan_end")
    lag = requests["send_lag_ms"].dropna().to_numpy(dtype=float)
    late = lag > LATE_MS
    first = plans.iloc[0]
    p50, p99 = (float(v) for v in np.percentile(lag, [50, 99])) if lag.size else (None, None)
    return {
        "rate": str(first["rate"]),
        "arrivals": str(first["arrivals"]),
        "procs": int(first["procs"]),
        "planned": _int_sum(plans, "slots"),
        "sent_rps": round(len(requests) / seconds, 3) if seconds > 0 else 0.0,
        "start_skew_ms": round((plans["start"].max() - plans["start"].min()) * 1000, 3),
        "send_lag_p50_ms": p50,
        "send_lag_p99_ms": p99,
        "late_threshold_ms": LATE_MS,
        "late_sends": int(late.sum()),
        "worst_lateness_ms": float(lag.max()) if lag.size else None,
        "max_users": _int_sum(plans, "max_users"),
        "pool_size": _int_sum(ends, "pool_size"),
        "cap_reached": bool(not _events(events, "user_cap_reached").empty),
        "waits_for_user": _int_sum(ends, "waits_for_user"),
        "unfinished": _int_sum(ends, "unfinished"),
        "plans_ended": int(len(ends)),
    }


def tails_differ(corrected: float, uncorrected: float) -> bool:
    """Whether a corrected latency exceeds its uncorrected twin by more than 10 % (or 1 ms)."""
    return corrected - uncorrected > max(1.0, 0.1 * uncorrected)


def gap_sentence(aggregate: LatencyFigures, sender: OpenModelSection) -> str | None:
    """One sentence explaining why corrected and uncorrected P99 differ, or None if they agree
    (within 10 % or 1 ms)."""
    corrected = aggregate.get("p99_ms")
    figures = aggregate.get("uncorrected")
    uncorrected = figures.get("p99_ms") if figures else None
    if corrected is None or uncorrected is None:
        return None
    if not tails_differ(corrected, uncorrected):
        return None
    if not sender["late_sends"]:
        return (
            f"Corrected P99 {corrected:.1f} ms vs uncorrected {uncorrected:.1f} ms: no request "
            f"left more than {sender['late_threshold_ms']:g} ms after its slot, but the sender's "
            f"small delays (worst {sender['worst_lateness_ms']:.0f} ms) land in the tail; the "
            "corrected figure counts them, as a client arriving on schedule would."
        )
    why = (
        f"every one of the {sender['max_users']} users (--max-users) was busy"
        if sender["cap_reached"]
        else "the load generator fell behind its plan"
    )
    return (
        f"Corrected P99 {corrected:.1f} ms vs uncorrected {uncorrected:.1f} ms: "
        f"{sender['late_sends']} requests were sent more than {sender['late_threshold_ms']:g} ms "
        f"after their slot (worst {sender['worst_lateness_ms']:.0f} ms) because {why}; "
        "clients arriving on schedule would have waited that long too, so the corrected "
        "figure counts it."
    )
