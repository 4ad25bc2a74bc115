"""The report's charts, drawn from run data made by hand."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from lagscope.reports.renderers.charts import run_charts, x_limits
from lagscope.reports.series import Series, run_series
from lagscope.reports.summary import summarize
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tests.reports import frames


def _axis(fig: Figure, ylabel: str) -> Axes:
    return next(ax for ax in fig.axes if ax.get_ylabel() == ylabel)


def _stall(at: float) -> dict[str, Any]:
    return {"pid": 4242, "start": frames.T0 + at, "duration_ms": 120.0, "lag_ms": 115.0,
            "samples": 5, "cpu_share": 0.0, "cause": "wait", "location": "app/api.py:40",
            "function": "f", "in_user_code": True, "endpoint": None, "stacks": []}  # fmt: skip


def test_a_gauge_that_never_moved_gets_an_axis_from_zero() -> None:
    charts = run_charts(run_series(frames.run_data()), top_blocker=None)
    gauges = charts["gauges"]
    assert _axis(gauges, "threads_waiting").get_ylim() == (0.0, 1.0)  # always 0
    assert _axis(gauges, "threads_total").get_ylim() == (0.0, 50.0)  # always 40
    low, high = _axis(gauges, "tasks").get_ylim()  # a gauge that moves keeps its own axis
    assert 0.0 < low < 20.0 < 24.0 < high


def test_the_stall_legend_says_it_counts_the_whole_run_not_the_steady_window() -> None:
    # one stall in the ramp-up before the steady window, one inside it
    data = frames.run_data(stall_frame=frames.stalls([_stall(-0.5), _stall(4.0)]))
    assert summarize(data)["loop"]["stall_count"] == 1
    charts = run_charts(run_series(data), top_blocker=None)
    legend = charts["loop-lag"].axes[0].get_legend()
    assert "stalls, whole run (2)" in [t.get_text() for t in legend.get_texts()]


def _one_request_series() -> Series:
    one = frames.requests(n=1)
    data = frames.run_data(request_frame=one)
    return run_series(dataclasses.replace(data, events=data.events.iloc[0:0], lag=data.lag[:0]))


def test_the_time_axis_is_at_least_a_second_wide() -> None:
    empty = Series(t0=0.0, window=(0.0, 0.0), requests=pd.DataFrame(columns=["second"]),
                   lag=pd.DataFrame(columns=["second"]), stalls=pd.DataFrame(),
                   resources=pd.DataFrame(columns=["second"]), gauges=pd.DataFrame(),
                   profile=None)  # fmt: skip
    assert x_limits(empty) == (0.0, 1.0)
    one = _one_request_series()  # one request, no events: the window is a single instant
    assert one.window[0] == one.window[1]
    low, high = x_limits(one)
    assert high - low >= 1.0
    run_charts(one, top_blocker=None)  # and draws without a warning (warnings are errors)


def test_gc_pauses_as_long_as_a_stall_are_marked_on_the_loop_lag_chart() -> None:
    collections = frames.collections([(2.0, 2, 45.0), (5.0, 2, 60.0), (6.0, 0, 1.0)])
    series = run_series(frames.run_data(gc_frame=collections))
    assert series.gc["duration_ms"].tolist() == [45.0, 60.0]  # the young 1 ms one is not
    legend = run_charts(series, top_blocker=None)["loop-lag"].axes[0].get_legend()
    assert "GC pauses (2)" in [t.get_text() for t in legend.get_texts()]
