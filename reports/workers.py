"""Which server workers lived when: started (meta.json) and last heard of (heartbeats) (pure)."""

from __future__ import annotations

from typing import Any, TypedDict

import pandas as pd


class WorkerLife(TypedDict):
    pid: int
    started: float  # unix s, from meta.json
    last_beat: float  # unix s, its last heartbeat (NaN: none)


class WorkerLives(TypedDict):
    workers: list[WorkerLife]
    start: float | None  # the window the figures cover
    end: float | None


def no_lives() -> WorkerLives:
    return {"workers": [], "start": None, "end": None}


def worker_lives(
    metas: list[dict[str, Any]], lag: pd.DataFrame, *, start: float, end: float
) -> WorkerLives:
    """``{"workers": [{pid, started, last_beat}], "start", "end"}``: every worker whose probe
    started, and the window (unix s) the figures cover."""
    last = lag.groupby("pid")["t"].max() if not lag.empty else pd.Series(dtype=float)
    workers: list[WorkerLife] = [
        {
            "pid": int(meta["pid"]),
            "started": float(meta.get("started") or 0.0),
            "last_beat": float(last.get(int(meta["pid"]), float("nan"))),
        }
        for meta in metas
        if "pid" in meta
    ]
    return {"workers": sorted(workers, key=lambda w: w["started"]), "start": start, "end": end}
