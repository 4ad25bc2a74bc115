"""Garbage-collection pauses (``workers/<pid>/gc.csv``): stalls put on the collector, and
the pauses' share of the loop's time and of the tail latency.

A collection holds the GIL, so the loop stalls while it runs; the watchdog, which needs the
GIL to sample, sees at most the line that ran next.  A stall that overlaps collections of
its own worker for at least ``GC_SHARE`` of its duration is the collector's: it is blamed
on ``<gc genN>`` (the oldest generation collected), and the user's line the longest of
those collections began at (``gc.csv``'s ``site``: the allocation that set it off) is kept
as ``context``, not as the culprit; for a collection without one, the user's line the
watchdog sampled.

Pure: data frames in, data frames and dicts out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lagscope.reports.summary_types import GcSection, GcTail, GenerationFigures

GC_SHARE = 0.5  # of a stall's duration spent in collections: the stall is the collector's
# A collection as long as a stall is a pause of the collector when it also worked (on the
# CPU) for this share of the threshold; else the machine held it up (preempted, GIL held).
PAUSE_CPU_SHARE = 0.5
SLACK_S = 0.005  # a stall's start is estimated within ± half a heartbeat interval
GC_FUNCTION = "gc.collect"


def gc_location(generation: int) -> str:
    return f"<gc gen{generation}>"


def is_gc_location(location: str | None) -> bool:
    return bool(location) and str(location).startswith("<gc gen")


class _Collections:
    """One worker's collections, sorted by start, for overlap queries."""

    def __init__(self, rows: pd.DataFrame) -> None:
        rows = rows.sort_values("t")
        self.begins = rows["t"].to_numpy(float)
        self.ends = self.begins + rows["duration_ms"].to_numpy(float) / 1000.0
        self.generations = rows["generation"].to_numpy()
        self.sites = rows["site"].fillna("").astype(str).to_numpy()
        self.longest_s = float((self.ends - self.begins).max()) if len(rows) else 0.0

    def overlap(self, start: float, end: float) -> tuple[float, int, str]:
        """Seconds of collections inside [start, end], the oldest generation among those
        that overlap it (-1 when none does), and the site of the longest of them that has
        one ("" when none has)."""
        lo = int(np.searchsorted(self.begins, start - self.longest_s, side="left"))
        hi = int(np.searchsorted(self.begins, end, side="right"))
        begins, ends = self.begins[lo:hi], self.ends[lo:hi]
        inside = np.clip(np.minimum(ends, end) - np.maximum(begins, start), 0.0, None)
        hit = inside > 0
        if not hit.any():
            return 0.0, -1, ""
        sites = self.sites[lo:hi]
        noted = hit & (sites != "")
        site = str(sites[np.argmax(np.where(noted, ends - begins, -1.0))]) if noted.any() else ""
        return float(inside.sum()), int(self.generations[lo:hi][hit].max()), site


def attribute_to_gc(stalls: pd.DataFrame, gc: pd.DataFrame) -> pd.DataFrame:
    """``stalls`` with each stall that the collector explains blamed on ``<gc genN>``.

    Such a stall's stacks become one stack at ``<gc genN>`` (cause ``gc``) that keeps the
    frames the watchdog sampled, with ``context``: the user's line the collection began at,
    else the watchdog's blamed line when it is the user's, else None.
    """
    if stalls.empty or gc.empty:
        return stalls
    out = stalls.copy()
    for column in ("location", "function", "endpoint", "cause", "stacks"):  # text, even if
        out[column] = out[column].astype(object)  # every stall of the run is unsampled
    by_pid = {pid: _Collections(rows) for pid, rows in gc.groupby("pid")}
    for index, stall in stalls.iterrows():
        collections = by_pid.get(stall["pid"])
        if collections is None:
            continue
        duration_s = float(stall["duration_ms"]) / 1000.0
        start = float(stall["start"])
        spent, generation, site = collections.overlap(start - SLACK_S, start + duration_s + SLACK_S)
        if generation < 0 or spent < GC_SHARE * duration_s:
            continue
        stacks = stall["stacks"] if isinstance(stall["stacks"], list) else []
        top = stacks[0] if stacks else {}
        location = gc_location(generation)
        out.at[index, "stacks"] = [{
            "count": 1, "location": location, "function": GC_FUNCTION, "in_user_code": False,
            "endpoint": None, "cause": "gc", "frames": top.get("frames", []),
            # The user's line the collection began at (its allocation set it off), else
            # the user's line the watchdog saw next (a gc.csv without sites).  Never a
            # library's or the runner's: a collection the loop's own work started (a
            # frame, a timer handle) says nothing of the app.  (A stall over before it was
            # sampled has no line: NaN in the frame.)
            "context": site or (
                stall["location"]
                if isinstance(stall["location"], str) and stall["in_user_code"] is True
                else None
            ),
        }]  # fmt: skip
        out.loc[index, ["location", "function", "in_user_code", "endpoint", "cause"]] = [
            location, GC_FUNCTION, False, None, "gc"
        ]  # fmt: skip
    return out


def pauses(gc: pd.DataFrame, *, threshold_ms: float) -> pd.Series:
    """Which collections are pauses: as long as ``threshold_ms`` and working at least
    ``PAUSE_CPU_SHARE`` of it on the CPU (``cpu_ms``; taken as the duration when absent)."""
    duration = gc["duration_ms"].astype(float)
    cpu = gc["cpu_ms"].astype(float).fillna(duration) if "cpu_ms" in gc else duration
    return (duration >= threshold_ms) & (cpu >= PAUSE_CPU_SHARE * threshold_ms)


def _tail(requests: pd.DataFrame, pauses: pd.DataFrame) -> GcTail:
    """Of the requests at or above the P99 latency, how many overlapped a long pause."""
    if requests.empty:
        return {"p99_ms": None, "requests": 0, "overlapping": 0, "share": None}
    latency = requests["latency_ms"].to_numpy(float)
    p99 = float(np.percentile(latency, 99.0))
    slow = requests[latency >= p99]
    begins = pauses["t"].to_numpy(float)
    ends = begins + pauses["duration_ms"].to_numpy(float) / 1000.0
    sent = slow["t"].to_numpy(float)
    done = sent + slow["latency_ms"].to_numpy(float) / 1000.0
    hit = (
        ((begins[None, :] < done[:, None]) & (ends[None, :] > sent[:, None])).any(axis=1)
        if begins.size
        else np.zeros(sent.size, dtype=bool)
    )
    return {
        "p99_ms": round(p99, 3),
        "requests": int(sent.size),
        "overlapping": int(hit.sum()),
        "share": round(float(hit.mean()), 3) if sent.size else None,
    }


def gc_figures(
    gc: pd.DataFrame,
    stalls: pd.DataFrame,
    requests: pd.DataFrame,
    *,
    threshold_ms: float,
    seconds: float,
    workers: int,
) -> GcSection:
    """Collections in the window (``gc``, ``stalls`` and ``requests`` already clipped to it):
    how many per generation; the pauses (``pauses``: count, total, longest) and the
    collections as long that the machine held up;
    their share of the loop's time; the stalls blamed on the collector, with the line they
    interrupted; the requests of the tail (≥ P99) that overlapped a pause."""
    loop_ms = max(seconds, 1e-9) * 1000.0 * max(workers, 1)
    if gc.empty:
        return {"recorded": False, "threshold_ms": threshold_ms}
    durations = gc["duration_ms"].astype(float)
    is_pause = pauses(gc, threshold_ms=threshold_ms)
    long = gc[is_pause]
    by_gen: dict[str, GenerationFigures] = {
        str(int(gen)): {
            "collections": int(len(rows)),
            "total_ms": round(float(rows["duration_ms"].sum()), 3),
            "pauses": int(is_pause[rows.index].sum()),
            "pauses_ms": round(float(rows.loc[is_pause[rows.index], "duration_ms"].sum()), 3),
            "max_ms": round(float(rows["duration_ms"].max()), 3),
        }
        for gen, rows in gc.groupby("generation", sort=True)
    }
    gc_stalls = (
        stalls[stalls["location"].map(is_gc_location)] if not stalls.empty else stalls.iloc[0:0]
    )
    contexts = [
        s[0].get("context") for s in gc_stalls["stacks"] if isinstance(s, list) and s
    ]  # fmt: skip
    contexts = [c for c in contexts if isinstance(c, str) and c]
    pause_ms = float(long["duration_ms"].sum())
    return {
        "recorded": True,
        "threshold_ms": threshold_ms,
        "collections": int(len(gc)),
        "total_ms": round(float(durations.sum()), 3),
        "share": round(float(durations.sum()) / loop_ms, 4),
        "generations": by_gen,
        "pauses": int(len(long)),
        # as long as a pause, but the collector was mostly off the CPU: a busy machine's
        "held_up": int(((durations >= threshold_ms) & ~is_pause).sum()),
        "pauses_ms": round(pause_ms, 3),
        "pauses_share": round(pause_ms / loop_ms, 4),
        "max_ms": round(float(durations.max()), 3),
        "stalls": int(len(gc_stalls)),
        "stalls_ms": round(float(gc_stalls["duration_ms"].sum()), 3) if len(gc_stalls) else 0.0,
        "context": max(set(contexts), key=contexts.count) if contexts else None,
        "tail": _tail(requests, long),
    }


def pause_events(gc: pd.DataFrame, *, threshold_ms: float, t0: float) -> pd.DataFrame:
    """The pauses (``pauses``) as chart marks: pid, at (s since t0), duration_ms, generation."""
    columns = ["pid", "at", "duration_ms", "generation"]
    if gc.empty:
        return pd.DataFrame(columns=columns)
    long = gc[pauses(gc, threshold_ms=threshold_ms)]
    return pd.DataFrame(
        {"pid": long["pid"], "at": long["t"].astype(float) - t0,
         "duration_ms": long["duration_ms"].astype(float), "generation": long["generation"]}
    )[columns].sort_values("at", ignore_index=True)  # fmt: skip
