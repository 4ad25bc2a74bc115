"""Requests that ran under the profiler: found by the recorded window, kept out of the headline.

The profile window is the span from the first worker's ``profile_window`` start to the
last one's end.  A request overlaps it when it was sent before the window closed and
answered after it opened.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
from lagscope.reports.latency import latency_figures
from lagscope.reports.summary_types import ProfileFile, ProfileOverhead, ProfileSection


class CpuPerRequest(TypedDict):
    """The target's CPU time per request (ms), for ``profile.overhead``."""

    cpu_ms_per_request_inside: float | None
    cpu_ms_per_request_outside: float | None


def profile_windows(events: pd.DataFrame) -> pd.DataFrame:
    """The ``profile_window`` events: pid, start, end, html, speedscope (empty without any)."""
    columns = ["pid", "start", "end", "html", "speedscope"]
    if "event" not in events:
        return pd.DataFrame(columns=columns)
    rows = events.loc[events["event"] == "profile_window"]
    return rows.reindex(columns=columns).reset_index(drop=True)


def profile_span(windows: pd.DataFrame) -> tuple[float, float] | None:
    if windows.empty:
        return None
    return float(windows["start"].min()), float(windows["end"].max())


def under_profiler(requests: pd.DataFrame, span: tuple[float, float] | None) -> pd.Series:
    """True for each request that overlapped the profile span."""
    if span is None or requests.empty:
        return pd.Series(False, index=requests.index, dtype=bool)
    sent = requests["t"].to_numpy(dtype=float)
    done = sent + requests["latency_ms"].to_numpy(dtype=float) / 1000.0
    return pd.Series((sent <= span[1]) & (done >= span[0]), index=requests.index)


def outside_span(
    frame: pd.DataFrame, section: ProfileSection | None, column: str = "t"
) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` falls outside the profiled span (if any)."""
    if section is None or frame.empty:
        return frame
    inside = (frame[column] >= section["start"]) & (frame[column] <= section["end"])
    return frame[~inside]


def profile_figures(
    requests: pd.DataFrame,
    mask: pd.Series,
    *,
    span: tuple[float, float],
    window: tuple[float, float],
    files: list[ProfileFile],
) -> ProfileSection:
    """The profiled requests' figures and the profiler's overhead on throughput and P50.

    ``requests`` are the steady window's; ``overhead`` compares requests/s sent inside
    the span with those sent outside it (within the steady window).
    """
    start, end = max(span[0], window[0]), min(span[1], window[1])
    inside_s = max(end - start, 0.0)
    outside_s = max(window[1] - window[0] - inside_s, 0.0)
    inside, outside = requests[mask], requests[~mask]
    rps_in = len(inside) / inside_s if inside_s > 0 else None
    rps_out = len(outside) / outside_s if outside_s > 0 else None
    p50_in = float(np.percentile(inside["latency_ms"], 50)) if len(inside) else None
    p50_out = float(np.percentile(outside["latency_ms"], 50)) if len(outside) else None
    drop = 1.0 - rps_in / rps_out if rps_in is not None and rps_out else None
    return {
        "start": span[0],
        "end": span[1],
        "seconds": round(span[1] - span[0], 3),
        "files": files,
        "requests": latency_figures(
            inside["latency_ms"], failures=int((~inside["ok"]).sum()), seconds=inside_s or 1e-9
        ),
        "overhead": {
            "rps_inside": None if rps_in is None else round(rps_in, 2),
            "rps_outside": None if rps_out is None else round(rps_out, 2),
            "throughput_drop": None if drop is None else round(drop, 4),
            "p50_ms_inside": p50_in,
            "p50_ms_outside": p50_out,
        },
    }


def target_cpu_ms_per_request(
    resources: pd.DataFrame,
    overhead: ProfileOverhead,
    *,
    span: tuple[float, float],
    window: tuple[float, float],
    sample_s: float = 1.0,
) -> CpuPerRequest:
    """The target's CPU time per request inside and outside the span (ms).

    Under a closed-model load below capacity, throughput hides the profiler's cost;
    CPU per request shows it.  A sample reports the CPU of the ``sample_s`` before it,
    so only samples wholly inside (or wholly outside) the span count.
    """
    if resources.empty or "role" not in resources:
        return {"cpu_ms_per_request_inside": None, "cpu_ms_per_request_outside": None}
    target = resources.loc[resources["role"] == "target"].groupby("t")["cpu_pct"].sum()
    t = target.index.to_numpy(dtype=float)
    steady = (t - sample_s >= window[0]) & (t <= window[1])
    inside = steady & (t - sample_s >= span[0]) & (t <= span[1])
    outside = steady & ((t <= span[0]) | (t - sample_s >= span[1]))

    def per_request(mask: npt.NDArray[np.bool_], rps: float | None) -> float | None:
        if mask.any() and rps:
            return round(float(target[mask].mean()) * 10.0 / rps, 3)  # % of 1 s → ms
        return None

    return {
        "cpu_ms_per_request_inside": per_request(inside, overhead["rps_inside"]),
        "cpu_ms_per_request_outside": per_request(outside, overhead["rps_outside"]),
    }


def split_profiled(
    events: pd.DataFrame,
    requests: pd.DataFrame,
    *,
    window: tuple[float, float],
    resources: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, float, ProfileSection | None]:
    """The headline requests, the seconds they span, and the profile section (or None).

    ``requests`` are the steady window's; without a profile window they all count.
    """
    seconds = max(window[1] - window[0], 1e-9)
    windows = profile_windows(events)
    span = profile_span(windows)
    if span is None:
        return requests, seconds, None
    mask = under_profiler(requests, span)
    files: list[ProfileFile] = [
        {"pid": int(row.pid), "html": row.html, "speedscope": row.speedscope}
        for row in windows.itertuples()
        if isinstance(row.html, str)
    ]
    section = profile_figures(requests, mask, span=span, window=window, files=files)
    if resources is not None:
        overhead = section["overhead"]
        cpu = target_cpu_ms_per_request(resources, overhead, span=span, window=window)
        overhead["cpu_ms_per_request_inside"] = cpu["cpu_ms_per_request_inside"]
        overhead["cpu_ms_per_request_outside"] = cpu["cpu_ms_per_request_outside"]
    inside_s = max(min(span[1], window[1]) - max(span[0], window[0]), 0.0)
    return requests[~mask], max(seconds - inside_s, 1e-9), section
