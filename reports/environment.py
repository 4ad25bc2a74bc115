"""What the machine did to the run, from its events: a full disk or a failed write that
stopped it, load-generator processes that died, other lagscope runs that shared the CPU.

Pure functions of the events (and the requests, for what a dead process left); the
summary's ``environment`` section, the self-checks and the CLI's last line read them.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from lagscope.reports.summary_types import EnvironmentSection, LoadDeath, OtherRuns, RunStop
from lagscope.reports.window import Window


def _rows(events: pd.DataFrame, name: str) -> pd.DataFrame:
    if events.empty or "event" not in events:
        return events.iloc[0:0]
    return events.loc[events["event"] == name]


def _load_start(events: pd.DataFrame) -> float | None:
    starts = _rows(events, "load_start")
    return float(starts["t"].min()) if not starts.empty else None


def _after(t: float, start: float | None) -> float | None:
    return None if start is None else round(max(0.0, t - start), 1)


def stopped(events: pd.DataFrame) -> RunStop | None:
    """Why the run ended before its load did: ``{reason, detail, after_s}`` or None.

    ``disk_full``: free space fell under what finishing needs (``disk_low``), or a write
    found no space; ``write_failed``: another OS error on the run directory.
    """
    low, failed = _rows(events, "disk_low"), _rows(events, "write_failed")
    candidates: list[tuple[float, Literal["disk_full", "write_failed"], str]] = []
    if not low.empty:
        candidates.append((float(low["t"].iloc[0]), "disk_full", str(low["detail"].iloc[0])))
    if not failed.empty:
        first = failed.iloc[0]
        full = bool(first.get("no_space")) if "no_space" in failed else False
        candidates.append(
            (float(first["t"]), "disk_full" if full else "write_failed", str(first["detail"]))
        )
    if not candidates:
        return None
    t, reason, detail = min(candidates)
    return {"reason": reason, "detail": detail, "after_s": _after(t, _load_start(events))}


def load_deaths(events: pd.DataFrame, requests: pd.DataFrame) -> list[LoadDeath]:
    """Load-generator processes that died before the load's end: pid, role, how, after_s
    (seconds into the load), and ``requests``: how many of its requests were kept."""
    deaths = _rows(events, "load_generator_died")
    start = _load_start(events)
    found: list[LoadDeath] = []
    for _, row in deaths.iterrows():
        pid = int(row["pid"])
        kept = int((requests["pid"] == pid).sum()) if "pid" in requests else 0
        at = row.get("at")
        went = float(at) if at is not None and not pd.isna(at) else float(row["t"])
        found.append({
            "pid": pid, "role": str(row["role"]), "how": str(row["how"]),
            "after_s": _after(went, start), "requests": kept,
        })  # fmt: skip
    return found


def other_runs(events: pd.DataFrame, window: Window) -> OtherRuns | None:
    """Other lagscope runs seen during ``window``: their run directories and the mean CPU
    (% of one core) their processes used; None when none was seen."""
    seen = _rows(events, "other_runs")
    if seen.empty:
        return None
    # Each event covers the ``seconds`` before it: keep those that overlap the window.
    overlap = seen.loc[(seen["t"] >= window.start) & (seen["t"] - seen["seconds"] <= window.end)]
    if overlap.empty:
        return None
    runs = sorted({run for runs in overlap["runs"] for run in runs})
    weights = overlap["seconds"].astype(float)
    cpu = float((overlap["cpu_pct"].astype(float) * weights).sum() / max(weights.sum(), 1e-9))
    return {"runs": runs, "cpu_pct_mean": round(cpu, 1), "seconds": round(float(weights.sum()), 1)}


def environment(events: pd.DataFrame, requests: pd.DataFrame, window: Window) -> EnvironmentSection:
    """The summary's ``environment`` section."""
    return {
        "stopped": stopped(events),
        "load_deaths": load_deaths(events, requests),
        "other_runs": other_runs(events, window),
    }


def cut_short(env: EnvironmentSection) -> bool:
    """The machine cost the run part of its load (exit code 3)."""
    return bool(env["stopped"] or env["load_deaths"])
