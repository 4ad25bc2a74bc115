"""Requests under the profiler are found by the recorded window and left out of the headline."""

from __future__ import annotations

import pandas as pd
import pytest
from lagscope.reports.profiled import (
    outside_span,
    split_profiled,
    target_cpu_ms_per_request,
    under_profiler,
)


def _events(start: float, end: float) -> pd.DataFrame:
    return pd.DataFrame(
        [{"t": 0.0, "event": "load_start"},
         {"t": end, "event": "profile_window", "pid": 9, "start": start, "end": end,
          "html": "workers/9/profile.html", "speedscope": "workers/9/profile.speedscope.json"}]
    )  # fmt: skip


def test_a_request_overlapping_the_window_counts_as_profiled() -> None:
    requests = pd.DataFrame({"t": [1.0, 4.5, 5.5, 9.0], "latency_ms": [600.0, 1.0, 1.0, 1.0]})
    # 1.0 + 0.6 s ends before 5; 4.5 ends inside; 5.5 inside; 9.0 after the window.
    assert under_profiler(requests, (5.0, 8.0)).tolist() == [False, False, True, False]
    requests.loc[1, "latency_ms"] = 600.0
    assert under_profiler(requests, (5.0, 8.0)).tolist() == [False, True, True, False]


def test_split_profiled_excludes_them_and_measures_the_overhead() -> None:
    # 10 req/s outside the window (0..4 and 6..10), 5 req/s inside (4..6).
    outside = [i / 10 for i in range(40)] + [6.05 + i / 10 for i in range(39)]
    inside = [4.05 + i / 5 for i in range(9)]
    t = sorted(outside + inside)
    requests = pd.DataFrame({"t": t, "latency_ms": 1.0, "ok": True})
    headline, seconds, profile = split_profiled(_events(4.0, 6.0), requests, window=(0.0, 10.0))
    assert profile is not None
    assert len(headline) == len(outside)
    assert seconds == pytest.approx(8.0)
    assert profile["requests"]["count"] == len(inside)
    assert profile["overhead"]["rps_inside"] == pytest.approx(4.5)
    assert profile["overhead"]["rps_outside"] == pytest.approx(79 / 8, abs=0.01)
    assert profile["overhead"]["throughput_drop"] == pytest.approx(1 - 4.5 / (79 / 8), abs=1e-3)
    assert profile["files"][0]["html"] == "workers/9/profile.html"


def test_without_a_profile_window_every_request_counts() -> None:
    requests = pd.DataFrame({"t": [1.0, 2.0], "latency_ms": 1.0, "ok": True})
    events = pd.DataFrame([{"t": 0.0, "event": "load_start"}])
    headline, seconds, profile = split_profiled(events, requests, window=(0.0, 4.0))
    assert profile is None
    assert len(headline) == 2
    assert seconds == 4.0


def test_outside_span_drops_the_profiled_rows_only() -> None:
    lag = pd.DataFrame({"t": [1.0, 5.0, 7.0, 9.0], "lag_ms": 1.0})
    kept = outside_span(lag, {"start": 4.0, "end": 8.0})
    assert kept["t"].tolist() == [1.0, 9.0]
    assert outside_span(lag, None) is lag


def test_cpu_per_request_counts_only_samples_wholly_inside_or_outside() -> None:
    # Target CPU: 20 % of a core outside the span (4.5..6.5), 60 % inside; a sample covers
    # the second before it, so those at 5.0 and 7.0 straddle the span's edges: left out.
    t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    cpu = [20.0, 20.0, 20.0, 20.0, 99.0, 60.0, 99.0, 20.0, 20.0]
    resources = pd.DataFrame({"t": t, "role": "target", "pid": 1, "cpu_pct": cpu})
    got = target_cpu_ms_per_request(
        resources, {"rps_inside": 100.0, "rps_outside": 200.0}, span=(4.5, 6.5),
        window=(0.0, 10.0),
    )  # fmt: skip
    assert got == {"cpu_ms_per_request_inside": 6.0, "cpu_ms_per_request_outside": 1.0}
