"""Findings of injected faults on hand-made data: memory_growth, worker_restarted, and the
labels that say a finding follows from an injected fault."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from lagscope.reports.injected import describe, injection_windows, label
from lagscope.reports.summary import summarize
from lagscope.reports.summary_types import Injected

from lagscope import rundir
from tests.reports import frames

T0 = frames.T0


def _injected(*rows: tuple[float, int, str, str, str, dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(rundir.INJECTED_COLUMNS))


def test_growing_rss_is_memory_growth_and_an_injected_leak_is_named() -> None:
    n = len(frames.gauges())
    growing = frames.gauges(rss_mb=90.0 + 20.0 * np.arange(n) * frames.GAUGE_EVERY_S)
    data = frames.run_data(gauge_frame=growing)
    (finding,) = [f for f in summarize(data)["diagnosis"] if f["kind"] == "memory_growth"]
    assert finding["location"] == "worker 4242"
    assert "grows steadily" in finding["summary"]
    assert "injected" not in finding
    leak = _injected(
        (T0 - 1, 4242, "on", "memory_leak", "memory_leak rate=20MB/s", {}),
        (T0 + 20, 4242, "off", "memory_leak", "memory_leak rate=20MB/s", {}),
    )
    summary = summarize(dataclasses.replace(data, injections=leak))
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == "memory_growth"]
    assert finding["location"] == "<injected memory_leak>"
    assert finding["injected"] == ["memory_leak rate=20MB/s"]
    assert finding["summary"].endswith("(injected: memory_leak rate=20MB/s).")
    assert summary["injected"][0]["start"] == T0 - 1


def test_steady_rss_is_no_memory_growth() -> None:
    assert "memory_growth" not in [f["kind"] for f in summarize(frames.run_data())["diagnosis"]]


def _two_workers_one_replaced() -> Any:
    data = frames.run_data()
    beats = np.arange(0.0, frames.SECONDS, 0.01)
    lag = pd.concat([
        pd.DataFrame({"pid": 1, "t": T0 + beats[beats < 4.0], "lag_ms": 0.3}),
        pd.DataFrame({"pid": 2, "t": T0 + beats, "lag_ms": 0.3}),
        pd.DataFrame({"pid": 3, "t": T0 + beats[beats > 5.0], "lag_ms": 0.3}),
    ])  # fmt: skip
    workers = [{"pid": 1, "started": T0 - 5}, {"pid": 2, "started": T0 - 5},
               {"pid": 3, "started": T0 + 4.8}]  # fmt: skip
    return dataclasses.replace(data, lag=lag, workers=workers)


def test_a_worker_that_stops_beating_and_its_replacement_are_worker_restarted() -> None:
    data = _two_workers_one_replaced()
    (finding,) = [f for f in summarize(data)["diagnosis"] if f["kind"] == "worker_restarted"]
    assert finding["summary"] == "Worker 1 died at 4.0 s; the server replaced it."
    assert "worker 3 started 0.8 s later" in finding["evidence"]
    crash = _injected(
        (T0 + 3.9, 1, "on", "worker_crash", "worker_crash", {}),
        (T0 + 3.9, 1, "crash", "worker_crash", "worker_crash", {"signal": "SIGKILL"}),
    )
    summary = summarize(dataclasses.replace(data, injections=crash))
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == "worker_restarted"]
    assert finding["location"] == "<injected worker_crash>"
    assert summary["injected"][0]["crashes"] == [{"pid": 1, "t": T0 + 3.9, "signal": "SIGKILL"}]


def test_a_finding_no_active_fault_explains_is_left_alone() -> None:
    windows = injection_windows(
        _injected(
            (T0, 1, "on", "loop_block", "loop_block block=50ms every=1s", {}),
            (T0 + 5, 1, "off", "loop_block", "loop_block block=50ms every=1s", {}),
        ),
        end=T0 + 10,
    )
    app_blocks = {"kind": "event_loop_blocking", "summary": "Blocked at app.py:3.",
                  "location": "app.py:3"}  # fmt: skip
    injected_blocks = {**app_blocks, "location": "<injected loop_block>",
                       "summary": "Injected loop_block: ..."}  # fmt: skip
    slow = {"kind": "slow_dependency", "summary": "Slow.", "location": "app.py:9"}
    out = label([app_blocks, injected_blocks, slow], windows)
    assert "injected" not in out[0]
    assert out[1]["injected"] == ["loop_block block=50ms every=1s"]
    assert out[1]["summary"] == "Injected loop_block: ..."
    assert "injected" not in out[2]


def test_a_fault_still_on_when_the_run_ended_lasts_to_the_end() -> None:
    (window,) = injection_windows(
        _injected((T0, 1, "on", "cpu_burn", "cpu_burn share=0.2", {})), end=T0 + 9
    )
    assert (window["start"], window["end"], window["workers"]) == (T0, T0 + 9, [1])


def window(kind: str, spec: str, *, start: float, matched: int = 0) -> Injected:
    return {"kind": kind, "spec": spec, "start": start, "end": None, "workers": [1],
            "matched": matched, "affected": matched, "crashes": [], "capped": []}  # fmt: skip


def test_a_fault_on_calls_that_met_none_says_nothing_was_injected() -> None:
    # The app talks to its database through another library than SQLAlchemy.
    line = describe(window("db_latency", "db_latency latency=200ms", start=97.7), t0=100.0)
    assert line == (
        "db_latency latency=200ms from the start to the end: no call matched, so nothing was "
        "injected: the app made no SQLAlchemy statement (an app on another database library "
        "gets none)"
    )
    hit = describe(window("db_latency", "db_latency latency=200ms", start=102.0, matched=9),
                   t0=100.0)  # fmt: skip
    assert hit == "db_latency latency=200ms from 2.0 s to the end: 9 of 9 matching calls affected"
    blocked = describe(
        window("loop_block", "loop_block block=50ms every=1s", start=100.0), t0=100.0
    )
    assert blocked == "loop_block block=50ms every=1s from 0.0 s to the end"
