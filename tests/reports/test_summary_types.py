"""summary.json holds exactly what ``lagscope.reports.summary_types`` declares.

mypy checks the readers (renderers, rules, ``compare``) against the TypedDicts; these
tests check the writer: summaries built by ``summarize`` have every required key, no
undeclared one, and values of the declared types.  The e2e runs check theirs the same way
(``tests/e2e/runs.py``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from lagscope.reports.rundata import load_run
from lagscope.reports.slo_spec import parse_slos
from lagscope.reports.summary import summarize
from lagscope.reports.summary_types import Summary

from tests.reports import frames
from tests.reports.rundirs import write_failed_start, write_run
from tests.reports.summary_shape import shape_errors

DATA = Path(__file__).parent / "data"


def test_a_run_with_stalls_gauges_and_slos_matches_the_types(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", rows=3000, stalls=True, gauges=True, slow_share=0.1)
    summary = summarize(load_run(run), slos=parse_slos(["default", "rps>1000"]))
    assert summary["slo"] is not None
    assert summary["loop"]["top_blockers"]
    assert shape_errors(summary, Summary) == []


def test_every_gauge_section_matches_the_types() -> None:
    summary = summarize(frames.run_data())
    (worker,) = summary["app"]["workers"].values()
    assert worker["tasks"]
    assert worker["logs"]
    assert shape_errors(summary, Summary) == []


def test_a_run_whose_target_never_started_matches_the_types(tmp_path: Path) -> None:
    summary = summarize(load_run(write_failed_start(tmp_path / "run")))
    assert summary["diagnosis"][0]["kind"] == "no_requests"
    assert shape_errors(summary, Summary) == []


@pytest.mark.parametrize("name", ["rate_profiled", "gameday"])
def test_saved_summaries_of_real_runs_match_the_types(name: str) -> None:
    """Written by ``lagscope run --rate 60 --profile 2s`` and by ``lagscope gameday`` (a
    shortened blocking_deploy.toml); the per-second SLI lists are cut short."""
    summary = json.loads((DATA / f"summary-{name}.json").read_text(encoding="utf-8"))
    assert summary["open_model"] if name == "rate_profiled" else summary["gameday"]["started"]
    assert shape_errors(summary, Summary) == []


def test_a_renamed_key_or_a_value_of_another_type_is_reported() -> None:
    summary = summarize(frames.run_data())
    changed = copy.deepcopy(summary)
    aggregate = changed["requests"]["aggregate"]
    aggregate["p99"] = aggregate.pop("p99_ms")
    changed["loop"]["stall_count"] = "3"
    assert shape_errors(changed, Summary) == [
        "summary.loop.stall_count: '3' is not int",
        "summary.requests.aggregate.p99_ms: missing",
        "summary.requests.aggregate.p99: not declared",
    ]
