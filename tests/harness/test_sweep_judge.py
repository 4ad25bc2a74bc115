"""What a sweep step records from its run's summary (a run directory written by hand)."""

from __future__ import annotations

from pathlib import Path

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
