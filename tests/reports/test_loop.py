"""Blocked time is attributed to the locations a stall's stacks blame."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from lagscope.reports.loop import loop_figures, top_blockers, unsampled_stalls
from lagscope.reports.selfcheck import machine_stalls


def stack(location: str, count: int, endpoint: str | None = None) -> dict[str, Any]:
    return {
        "count": count,
        "location": location,
        "function": "f",
        "in_user_code": True,
        "endpoint": endpoint,
        "frames": [[location.split(":")[0], int(location.split(":")[1]), "f", True]],
    }


def stall(duration_ms: float, *stacks: dict[str, Any], cause: str = "wait") -> dict[str, Any]:
    return {"duration_ms": duration_ms, "cause": cause, "stacks": list(stacks)}


def test_a_stall_spanning_two_blocking_calls_is_split_by_samples() -> None:
    stalls = pd.DataFrame(
        [stall(100.0, stack("a.py:1", 30, "GET /a"), stack("b.py:2", 10, "GET /b"))]
    )
    blockers = {b["location"]: b for b in top_blockers(stalls)}
    assert blockers["a.py:1"]["total_ms"] == pytest.approx(75.0)
    assert blockers["b.py:2"]["total_ms"] == pytest.approx(25.0)
    assert blockers["b.py:2"]["endpoint"] == "GET /b"


def test_blockers_are_ranked_by_total_time_and_counted_per_stall() -> None:
    stalls = pd.DataFrame(
        [stall(50.0, stack("a.py:1", 10)) for _ in range(3)] + [stall(400.0, stack("b.py:2", 5))]
    )
    first, second = top_blockers(stalls)
    assert (first["location"], first["count"], first["max_ms"]) == ("b.py:2", 1, 400.0)
    assert (second["location"], second["count"], second["total_ms"]) == ("a.py:1", 3, 150.0)
    assert second["stack"] == ["a.py:1 in f"]


def test_transitions_seen_in_few_samples_are_not_blockers() -> None:
    stalls = pd.DataFrame([stall(100.0, stack("a.py:1", 95), stack("b.py:2", 5))])
    assert [b["location"] for b in top_blockers(stalls)] == ["a.py:1"]


def _lag(pid: int, lags_ms: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"pid": pid, "t": range(len(lags_ms)), "lag_ms": lags_ms})


def test_late_beats_without_a_stall_record_are_counted_as_unsampled_stalls() -> None:
    lag = pd.concat([_lag(1, [0.2, 25.0, 0.3, 31.0, 20.0]), _lag(2, [22.0, 0.1])])
    stalls = pd.DataFrame({"pid": [1], "duration_ms": [36.0]})  # worker 1 sampled one of two
    # 20.0 is not *over* a 20 ms threshold; worker 2's stall was never sampled.
    assert unsampled_stalls(lag, stalls, threshold_ms=20.0) == 2


def test_a_stall_record_per_late_beat_leaves_nothing_unsampled() -> None:
    lag = _lag(1, [0.2, 25.0, 0.3, 31.0])
    stalls = pd.DataFrame({"pid": [1, 1], "duration_ms": [30.0, 36.0]})
    assert unsampled_stalls(lag, stalls, threshold_ms=20.0) == 0
    assert unsampled_stalls(lag.iloc[0:0], stalls.iloc[0:0], threshold_ms=20.0) == 0


def test_a_stall_under_the_threshold_but_for_its_cpu_waits_is_the_machines_not_a_blocker() -> None:
    rows = [
        {**stall(45.0, stack("a.py:1", 10)), "cpu_wait_ms": 30.0},  # 15 ms its own: machine's
        {**stall(45.0, stack("a.py:1", 10)), "cpu_wait_ms": 20.0},  # 25 ms its own: a.py's
        {**stall(60.0, stack("b.py:2", 10)), "cpu_wait_ms": None},  # not measured: b.py's
    ]
    stalls = pd.DataFrame([{"pid": 1, **row} for row in rows])
    lag = _lag(1, [40.0, 40.0, 55.0])
    loop = loop_figures(lag, stalls, workers=1, threshold_ms=20.0)
    assert (loop["machine_stalls"], loop["machine_stall_ms"]) == (1, 45.0)
    assert (loop["stall_count"], loop["stall_total_ms"]) == (3, 150.0)  # all that was seen
    blockers = {b["location"]: b["total_ms"] for b in loop["top_blockers"]}
    assert blockers == {"a.py:1": 45.0, "b.py:2": 60.0}
    (warning,) = machine_stalls(loop)
    assert warning["kind"] == "machine_busy"
    assert warning["message"].startswith("1 stall(s), 45 ms in all, were the machine's")
