"""Per-second series for the charts, on frames made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lagscope.reports.series import gauge_series, lag_series, request_series, resource_series


def _requests(t: list[float], latency: list[float], ok: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"t": t, "latency_ms": latency, "ok": ok})


def test_request_series_counts_errors_and_exact_percentiles_per_second() -> None:
    frame = _requests(
        [100.1, 100.5, 100.9, 101.2, 103.0], [1.0, 2.0, 10.0, 5.0, 7.0],
        [True, False, True, True, True],
    )  # fmt: skip
    out = request_series(frame, t0=100.0)
    assert out["second"].tolist() == [0.0, 1.0, 3.0]
    assert out["count"].tolist() == [3, 1, 1]
    assert out["errors"].tolist() == [1, 0, 0]
    assert out["p50_ms"].iloc[0] == np.percentile([1.0, 2.0, 10.0], 50)
    assert out["p99_ms"].iloc[0] == np.percentile([1.0, 2.0, 10.0], 99)
    assert out["p95_ms"].iloc[1] == 5.0


def test_request_series_of_no_requests_is_empty_with_its_columns() -> None:
    out = request_series(_requests([], [], []), t0=0.0)
    assert out.empty
    assert list(out.columns) == [
        "second", "count", "errors", "p50_ms", "p95_ms", "p99_ms", "p99_uncorrected_ms"
    ]  # fmt: skip


def test_request_series_has_no_uncorrected_tail_in_closed_mode() -> None:
    out = request_series(_requests([100.1, 100.2], [1.0, 2.0], [True, True]), t0=100.0)
    assert out["p99_uncorrected_ms"].isna().all()


def test_request_series_in_rate_mode_adds_the_exact_uncorrected_p99_per_second() -> None:
    frame = _requests([100.1, 100.5, 100.9, 101.2], [50.0, 80.0, 3.0, 4.0], [True] * 4).assign(
        uncorrected_ms=[2.0, 3.0, 3.0, 4.0]
    )
    out = request_series(frame, t0=100.0)
    assert out["p99_ms"].iloc[0] == np.percentile([50.0, 80.0, 3.0], 99)
    assert out["p99_uncorrected_ms"].iloc[0] == np.percentile([2.0, 3.0, 3.0], 99)
    assert out["p99_uncorrected_ms"].iloc[1] == 4.0


def test_lag_series_keeps_the_worst_beat_per_worker_and_bin() -> None:
    lag = pd.DataFrame(
        {"pid": [1, 1, 1, 2], "t": [10.0, 10.2, 10.7, 10.1], "lag_ms": [0.5, 80.0, 1.0, 3.0]}
    )
    out = lag_series(lag, t0=10.0, bin_s=0.5)
    assert out.to_dict("records") == [
        {"pid": 1, "second": 0.0, "lag_max_ms": 80.0},
        {"pid": 1, "second": 0.5, "lag_max_ms": 1.0},
        {"pid": 2, "second": 0.0, "lag_max_ms": 3.0},
    ]


def test_resource_series_labels_each_process_by_role_and_pid() -> None:
    res = pd.DataFrame({"t": [5.0, 6.0], "role": ["target", "target"], "pid": [7, 7],
                        "rss_mb": [50.0, 51.0], "cpu_pct": [0.0, 12.0], "fds": [9, 9]})  # fmt: skip
    out = resource_series(res, t0=5.0)
    assert out["process"].tolist() == ["target 7", "target 7"]
    assert out["second"].tolist() == [0.0, 1.0]


def test_gauge_series_renders_whatever_numeric_gauges_are_present() -> None:
    gauges = pd.DataFrame(
        {"t": [1.0, 2.0], "pid": [3, 3], "pool_waiters": [0, 4], "tasks_pending": [10, 12],
         "note": ["a", "b"]}
    )  # fmt: skip
    out = gauge_series(gauges, t0=1.0)
    assert list(out.columns) == ["pid", "second", "pool_waiters", "tasks_pending"]
    assert gauge_series(pd.DataFrame(), t0=0.0).empty
