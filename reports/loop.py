"""Loop-lag statistics and the ranking of blocking code (``top_blockers``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lagscope.reports.summary_types import Blocker, LoopSection

from lagscope import defaults
from lagscope.stalls import short_stack

# A stack seen in less than this share of a stall's samples is a transition, not a blocker.
MIN_STACK_SHARE = 0.1
# For a run.json that does not record its ``stall_threshold_ms`` (the harness always does).
DEFAULT_STALL_THRESHOLD_MS = defaults.STALL_THRESHOLD_MS


def _mode(series: pd.Series) -> Any:
    values = series.dropna()
    return None if values.empty else values.mode().iloc[0]


def attributions(stalls: pd.DataFrame) -> pd.DataFrame:
    """One row per (stall, blamed location): the stall's time split by its stacks' samples.

    A stall can span several blocking calls back to back (two requests, or a
    dependency then the endpoint); each location gets the share its stacks were seen.
    """
    rows = []
    for stall in stalls.itertuples(index=False):
        stacks = stall.stacks or []
        total = sum(s["count"] for s in stacks) or 1
        shares: dict[str, dict[str, Any]] = {}
        for stack in stacks:
            if "location" not in stack:  # a run recorded before stacks carried their blame
                blame = ("location", "function", "endpoint", "in_user_code")
                stack = {**stack, **{key: getattr(stall, key) for key in blame}}
            loc = stack.get("location") or "<unknown>"
            entry = shares.setdefault(loc, {**stack, "location": loc, "samples": 0})
            entry["samples"] += stack["count"]
        for entry in shares.values():
            share = entry["samples"] / total
            if share < MIN_STACK_SHARE:
                continue
            rows.append(
                {
                    "location": entry["location"],
                    "function": entry.get("function"),
                    "endpoint": entry.get("endpoint"),
                    "in_user_code": bool(entry.get("in_user_code")),
                    # The stack's own cause where the probe measured it (one stall can
                    # hold a CPU-bound and a waiting call), else the stall's.
                    "cause": entry.get("cause") or stall.cause,
                    "ms": float(stall.duration_ms) * share,
                    "frames": entry.get("frames", []),
                    # A stall put on the collector keeps the line the watchdog saw.
                    "context": entry.get("context"),
                    # The injector's fault that stalled (or lengthened) this stack, if any.
                    "injected": entry.get("injected"),
                }
            )
    columns = [
        "location", "function", "endpoint", "in_user_code", "cause", "ms", "frames", "context",
        "injected",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def top_blockers(stalls: pd.DataFrame, *, limit: int = 10) -> list[Blocker]:
    """Blocked time grouped by blamed location, worst (most total time) first."""
    shares = attributions(stalls)
    blockers: list[Blocker] = []
    for location, group in shares.groupby("location", sort=False):
        worst = group.loc[group["ms"].idxmax()]
        context = _mode(group["context"])
        blocker: Blocker = {
            "location": str(location),
            "function": _mode(group["function"]),
            "endpoint": _mode(group["endpoint"]),
            "cause": _mode(group["cause"]),
            "in_user_code": bool(group["in_user_code"].any()),
            "count": int(len(group)),
            "total_ms": round(float(group["ms"].sum()), 3),
            "max_ms": round(float(group["ms"].max()), 3),
            "stack": short_stack(worst["frames"]),
        }
        if context is not None:
            blocker["context"] = str(context)
        injected = _mode(group["injected"])
        if injected is not None:
            blocker["injected"] = str(injected)
        blockers.append(blocker)
    blockers.sort(key=lambda b: b["total_ms"], reverse=True)
    return blockers[:limit]


def machine_made(stalls: pd.DataFrame, *, threshold_ms: float) -> pd.Series:
    """Which stalls were the machine's rather than the code's: once the time the loop thread
    waited for a CPU (``cpu_wait_ms``, the machine busy with other work) is taken out, less
    than the threshold remains.  A stall with no such reading is the code's."""
    waited = pd.to_numeric(stalls["cpu_wait_ms"], errors="coerce").fillna(0.0)
    return (stalls["duration_ms"].astype(float) - waited) < threshold_ms


def unsampled_stalls(lag: pd.DataFrame, stalls: pd.DataFrame, *, threshold_ms: float) -> int:
    """Beats later than the threshold that no stall record accounts for, over all workers.

    The watchdog wakes when a late beat crosses the threshold; a stall that ends within
    a fraction of a millisecond of it (or while the machine keeps the watchdog off the
    CPU) is over before it can be sampled.  The heartbeat still saw it: count it.
    """
    if lag.empty:
        return 0
    over = lag.loc[lag["lag_ms"] > threshold_ms].groupby("pid").size()
    recorded = stalls.groupby("pid").size() if not stalls.empty else pd.Series(dtype="int64")
    missing = over.sub(recorded.reindex(over.index, fill_value=0)).clip(lower=0)
    return int(missing.sum())


def loop_figures(
    lag: pd.DataFrame, stalls: pd.DataFrame, *, workers: int, threshold_ms: float
) -> LoopSection:
    """Lag percentiles over all workers' heartbeats and the stall totals."""
    values = lag["lag_ms"].to_numpy(dtype=float)
    machine = machine_made(stalls, threshold_ms=threshold_ms)
    p50: float | None
    p99: float | None
    lag_max: float | None
    if values.size:
        p50, p99 = (float(v) for v in np.percentile(values, [50.0, 99.0]))
        lag_max = float(values.max())
    else:
        p50 = p99 = None
        lag_max = None
    return {
        "workers": workers,
        "heartbeats": int(values.size),
        "lag_p50_ms": p50,
        "lag_p99_ms": p99,
        "lag_max_ms": lag_max,
        "stall_count": int(len(stalls)),
        "stall_threshold_ms": threshold_ms,
        "unsampled_stalls": unsampled_stalls(lag, stalls, threshold_ms=threshold_ms),
        "stall_total_ms": round(float(stalls["duration_ms"].sum()), 3) if len(stalls) else 0.0,
        # Left out of the blockers: a line is not to blame for the machine's other work.
        "machine_stalls": int(machine.sum()),
        "machine_stall_ms": round(float(stalls.loc[machine, "duration_ms"].sum()), 3),
        "top_blockers": top_blockers(stalls.loc[~machine]),
    }
