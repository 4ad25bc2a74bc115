"""Diagnosis rules, on figures made by hand."""

from __future__ import annotations

from typing import Any

from lagscope.reports.diagnosis import diagnose
from lagscope.reports.findings import Figures


def blocker(**overrides: Any) -> dict[str, Any]:
    base = {
        "location": "app/orders.py:42",
        "function": "charge",
        "endpoint": "POST /orders",
        "cause": "wait",
        "in_user_code": True,
        "count": 12,
        "total_ms": 600.0,
        "max_ms": 55.0,
        "stack": [],
    }
    return {**base, **overrides}


def figures(
    *blockers: dict[str, Any], seconds: float = 10.0, outcome: str = "completed"
) -> Figures:
    return Figures(
        seconds=10.0,
        run={"outcome": outcome, "target_exit_code": None},
        requests={"aggregate": {"p99_ms": 120.0, "count": 1000, "failures": 0}},
        loop={"workers": 1, "lag_p99_ms": 40.0, "top_blockers": list(blockers)},
        resources={},
    )


def test_recurring_blocking_in_user_code_is_a_finding_with_evidence_and_remedy() -> None:
    (finding,) = diagnose(figures(blocker()))
    assert finding["kind"] == "event_loop_blocking"
    assert finding["location"] == "app/orders.py:42"
    assert finding["severity"] == "critical"  # 600 ms of 10 s = 6% of the loop's time
    assert "12 stalls" in finding["evidence"]
    assert "6.0%" in finding["evidence"]
    assert "POST /orders" in finding["summary"]


def test_cpu_bound_blocking_gets_the_cpu_remedy() -> None:
    (finding,) = diagnose(figures(blocker(cause="cpu")))
    assert finding["cause"] == "cpu"
    assert "ProcessPoolExecutor" in finding["remedy"]


def test_a_single_short_stall_is_not_a_finding() -> None:
    assert diagnose(figures(blocker(count=1, total_ms=30.0, max_ms=30.0))) == []


def test_a_single_long_stall_is() -> None:
    (finding,) = diagnose(figures(blocker(count=1, total_ms=250.0, max_ms=250.0)))
    assert finding["severity"] == "warning"


def test_scheduler_noise_outside_user_code_is_not_a_finding() -> None:
    noise = blocker(location="asyncio/runners.py:118", in_user_code=False, total_ms=80.0)
    assert diagnose(figures(noise)) == []


def test_heavy_blocking_in_library_code_is_still_reported() -> None:
    heavy = blocker(location="/venv/site-packages/lib.py:9", in_user_code=False, total_ms=900.0)
    assert [f["location"] for f in diagnose(figures(heavy))] == ["/venv/site-packages/lib.py:9"]


def test_share_is_per_worker_time() -> None:
    fig = figures(blocker(total_ms=600.0))
    two_workers = Figures(**{**fig.__dict__, "loop": {**fig.loop, "workers": 2}})
    (finding,) = diagnose(two_workers)
    assert "3.0%" in finding["evidence"]
    assert finding["severity"] == "warning"


def test_a_crashed_target_is_reported_first() -> None:
    findings = diagnose(figures(blocker(), outcome="target_crashed"))
    assert [f["kind"] for f in findings] == ["target_crashed", "event_loop_blocking"]
