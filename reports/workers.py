"""Which server workers lived when: started (meta.json) and last heard of (heartbeats) (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def worker_lives(
    metas: list[dict[str, Any]], lag: pd.DataFrame, *, start: float, end: float
) -> dict[str, Any]:
    """``{"workers": [{pid, started, last_beat}], "start", "end"}``: every worker whose probe
    started, and the window (unix s) the figures cover."""
    last = lag.groupby("pid")["t"].max() if not lag.empty else pd.Series(dtype=float)
    workers = [
        {
            "pid": int(meta["pid"]),
            "started": float(meta.get("started") or 0.0),
            "last_beat": float(last.get(int(meta["pid"]), float("nan"))),
        }
        for meta in metas
        if "pid" in meta
    ]
    return {"workers": sorted(workers, key=lambda w: w["started"]), "start": start, "end": end}
