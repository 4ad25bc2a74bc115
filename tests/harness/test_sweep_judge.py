"""What a sweep step records from its run's summary (a run directory written by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lagscope.harness.run.sweep import judge
from lagscope.reports.build import build
from lagscope.reports.slo_spec import parse_slos

from tests.reports.rundirs import write_run


def test_a_failed_step_records_the_endpoint_that_broke_each_check(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", rows=1000, stalls=False, gauges=False, slow_share=0.2)
    summary = build(run, slos=parse_slos(["p99<300ms", "p50<1s"]), png=False)
    step = judge(summary, load_procs=1)
    assert step["passed"] is False
    assert step["failed_checks"] == ["p99<300ms"]
    assert list(step["culprits"]) == ["p99<300ms"]  # the passing check blames nobody
    assert step["culprits"]["p99<300ms"]["endpoint"] == "GET /slow"
    assert step["culprits"]["p99<300ms"]["of"] == "requests over 300 ms"


def test_a_step_without_slos_is_not_passed_and_names_no_failed_check(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", rows=200, stalls=False, gauges=False)
    summary = build(run, slos=[], png=False)
    summary["slo"] = None  # as summary.json holds it when the run checked no SLO
    step = judge(summary, load_procs=1)
    assert (step["passed"], step["failed_checks"], step["culprits"]) == (False, [], {})
    assert step["rps"] == summary["requests"]["aggregate"]["rps"]


def _late(send_lag_p99_ms: float, late_sends: int) -> dict[str, Any]:
    """A step's summary, as far as judging its validity reads it: a healthy target, a
    generator that sent some requests late."""
    return {
        "requests": {"aggregate": {"count": 120, "failures": 0, "rps": 60.0, "p99_ms": 30.0}},
        "resources": {"load_generator": {"cpu_pct_max": 40.0}},
        "open_model": {"send_lag_p99_ms": send_lag_p99_ms, "late_sends": late_sends,
                       "cap_reached": False},
        "slo": {"passed": True, "checks": []},
    }  # fmt: skip


def test_a_generator_that_sent_late_makes_the_step_invalid_but_one_hiccup_does_not() -> None:
    late = judge(_late(45.0, late_sends=12), load_procs=1)
    assert (late["valid"], late["reason"]) == (
        False, "load generator sent late (p99 45.0 ms behind the plan)")  # fmt: skip
    # 120 sends: a P99 of 45 ms is two sends held by one pause of the generator.
    hiccup = judge(_late(45.0, late_sends=2), load_procs=1)
    assert (hiccup["valid"], hiccup["reason"]) == (True, None)
