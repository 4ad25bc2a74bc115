"""Loop-lag statistics and the ranking of blocking code (``top_blockers``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def format_stack(stack: dict[str, Any]) -> list[str]:
    """A merged stack as ``"path:line in function"`` lines, outermost first."""
    return [f"{frame[0]}:{frame[1]} in {frame[2]}" for frame in stack["frames"]]


def _mode(series: pd.Series) -> Any:
    values = series.dropna()
    return None if values.empty else values.mode().iloc[0]


def top_blockers(stalls: pd.DataFrame, *, limit: int = 10) -> list[dict[str, Any]]:
    """Stalls grouped by blamed location, worst (most total blocked time) first."""
    if stalls.empty:
        return []
    frame = stalls.assign(location=stalls["location"].fillna("<unknown>"))
    blockers = []
    for location, group in frame.groupby("location", sort=False):
        worst = group.loc[group["duration_ms"].idxmax()]
        stacks = worst["stacks"] or []
        blockers.append(
            {
                "location": str(location),
                "function": _mode(group["function"]),
                "endpoint": _mode(group["endpoint"]),
                "cause": _mode(group["cause"]),
                "in_user_code": bool(group["in_user_code"].any()),
                "count": int(len(group)),
                "total_ms": round(float(group["duration_ms"].sum()), 3),
                "max_ms": round(float(group["duration_ms"].max()), 3),
                "stack": format_stack(stacks[0]) if stacks else [],
            }
        )
    blockers.sort(key=lambda b: b["total_ms"], reverse=True)
    return blockers[:limit]


def loop_figures(lag: pd.DataFrame, stalls: pd.DataFrame, *, workers: int) -> dict[str, Any]:
    """Lag percentiles over all workers' heartbeats and the stall totals."""
    values = lag["lag_ms"].to_numpy(dtype=float)
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
        "stall_total_ms": round(float(stalls["duration_ms"].sum()), 3) if len(stalls) else 0.0,
        "top_blockers": top_blockers(stalls),
    }
