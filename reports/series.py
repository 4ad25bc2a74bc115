"""Time series for the charts: pure steps from the run's frames to per-second series.

Every series shares one time axis: seconds since ``t0`` (the load's start), so the
charts line up.  Percentiles per second are exact (linear interpolation, as numpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lagscope.reports.gcpauses import attribute_to_gc, pause_events
from lagscope.reports.loop import DEFAULT_STALL_THRESHOLD_MS
from lagscope.reports.profiled import profile_span, profile_windows
from lagscope.reports.rundata import RunData
from lagscope.reports.window import Window, measurement_window

GAUGE_EXCLUDED = {"t", "pid"}


@dataclass(frozen=True)
class Series:
    """What the charts draw; every frame has a ``second`` (or ``at``) column relative to t0."""

    t0: float
    window: tuple[float, float]  # the steady window, relative to t0
    requests: pd.DataFrame  # second, count, errors, p50_ms, p95_ms, p99_ms, p99_uncorrected_ms
    lag: pd.DataFrame  # pid, second, lag_max_ms
    stalls: pd.DataFrame  # pid, at, duration_ms, location
    resources: pd.DataFrame  # process, role, pid, second, rss_mb, cpu_pct, fds
    gauges: pd.DataFrame  # pid, second, one column per numeric gauge
    profile: tuple[float, float] | None  # the profile window, relative to t0
    # collections as long as the stall threshold: pid, at, duration_ms, generation
    gc: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["pid", "at", "duration_ms", "generation"])
    )


def time_origin(events: pd.DataFrame, window: Window) -> float:
    """The load's start (``load_start``), else the steady window's start."""
    starts = events.loc[events["event"] == "load_start", "t"] if "event" in events else []
    return float(min(starts)) if len(starts) else window.start


def request_series(requests: pd.DataFrame, *, t0: float) -> pd.DataFrame:
    """Per whole second since t0 (of the actual send): requests sent, failed ones, exact
    p50/p95/p99 latency and, in rate mode, the p99 of ``uncorrected_ms`` (NaN otherwise).

    Each second's percentiles are ``np.percentile`` of its rows, bit for bit.
    """
    columns = ["second", "count", "errors", "p50_ms", "p95_ms", "p99_ms", "p99_uncorrected_ms"]
    if requests.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    second = np.floor(requests["t"].to_numpy(dtype=float) - t0)
    order = np.argsort(second, kind="stable")
    second = second[order]
    latency = requests["latency_ms"].to_numpy(dtype=float)[order]
    failed = (~requests["ok"].to_numpy(dtype=bool)[order]).astype(np.int64)
    seconds, starts, counts = np.unique(second, return_index=True, return_counts=True)
    points = np.array(
        [np.percentile(group, [50.0, 95.0, 99.0]) for group in np.split(latency, starts[1:])]
    )
    uncorrected = np.full(seconds.size, np.nan)
    if "uncorrected_ms" in requests and requests["uncorrected_ms"].notna().any():
        raw = requests["uncorrected_ms"].to_numpy(dtype=float)[order]
        uncorrected = np.array([
            np.percentile(group, 99.0) if group.size else np.nan
            for group in (g[~np.isnan(g)] for g in np.split(raw, starts[1:]))
        ])  # fmt: skip
    return pd.DataFrame(
        {"second": seconds, "count": counts, "errors": np.add.reduceat(failed, starts),
         "p50_ms": points[:, 0], "p95_ms": points[:, 1], "p99_ms": points[:, 2],
         "p99_uncorrected_ms": uncorrected}
    )[columns]  # fmt: skip


def lag_series(lag: pd.DataFrame, *, t0: float, bin_s: float = 0.5) -> pd.DataFrame:
    """Per worker and ``bin_s`` bin: the worst heartbeat lag (stalls stand out at any length)."""
    if lag.empty:
        return pd.DataFrame(columns=["pid", "second", "lag_max_ms"], dtype=float)
    binned = lag.assign(second=np.floor((lag["t"] - t0) / bin_s) * bin_s)
    out = binned.groupby(["pid", "second"], sort=True)["lag_ms"].max().rename("lag_max_ms")
    return out.reset_index()


def stall_events(stalls: pd.DataFrame, *, t0: float) -> pd.DataFrame:
    """One row per stall: worker, when (s since t0), how long, blamed location."""
    frame = pd.DataFrame(
        {"pid": stalls["pid"], "at": stalls["start"].astype(float) - t0,
         "duration_ms": stalls["duration_ms"].astype(float),
         "location": stalls["location"].fillna("<unknown>")}
    )  # fmt: skip
    return frame.sort_values("at", ignore_index=True)


def resource_series(resources: pd.DataFrame, *, t0: float) -> pd.DataFrame:
    """One row per process and sample: ``process`` is ``"role pid"``, time in s since t0."""
    columns = ["process", "role", "pid", "second", "rss_mb", "cpu_pct", "fds"]
    if resources.empty:
        return pd.DataFrame(columns=columns)
    frame = resources.assign(
        process=resources["role"].astype(str) + " " + resources["pid"].astype(str),
        second=resources["t"].astype(float) - t0,
    )
    return frame[columns].sort_values(["process", "second"], ignore_index=True)


def gauge_series(gauges: pd.DataFrame, *, t0: float) -> pd.DataFrame:
    """Every numeric gauge column the workers wrote, by worker, time in s since t0."""
    if gauges.empty:
        return pd.DataFrame(columns=["pid", "second"])
    numeric = [
        c for c in gauges.columns
        if c not in GAUGE_EXCLUDED and pd.api.types.is_numeric_dtype(gauges[c])
    ]  # fmt: skip
    frame = gauges[["pid", *numeric]].assign(second=gauges["t"].astype(float) - t0)
    return frame[["pid", "second", *numeric]].sort_values(["pid", "second"], ignore_index=True)


def run_series(data: RunData) -> Series:
    """Every chart's series of a loaded run (the whole run, the steady window marked)."""
    window = measurement_window(data.events, data.requests)
    t0 = time_origin(data.events, window)
    span = profile_span(profile_windows(data.events))
    config = data.run.get("config", {})
    threshold_ms = float(config.get("stall_threshold_ms", DEFAULT_STALL_THRESHOLD_MS))
    return Series(
        t0=t0,
        window=(window.start - t0, window.end - t0),
        requests=request_series(data.requests, t0=t0),
        lag=lag_series(data.lag, t0=t0),
        stalls=stall_events(attribute_to_gc(data.stalls, data.gc), t0=t0),
        resources=resource_series(data.resources, t0=t0),
        gauges=gauge_series(data.gauges, t0=t0),
        profile=None if span is None else (span[0] - t0, span[1] - t0),
        gc=pause_events(data.gc, threshold_ms=threshold_ms, t0=t0),
    )
