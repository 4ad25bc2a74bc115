"""The openapi scenario's coverage: per operation answers by class, what was skipped and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from lagscope.reports.coverage import coverage, status_class
from lagscope.reports.renderers.coverage import coverage_lines, coverage_rows
from lagscope.reports.renderers.markdown import render_markdown
from lagscope.reports.rundata import load_run
from lagscope.reports.summary import summarize
from lagscope.reports.summary_types import Summary

from lagscope import rundir
from lagscope.openapi_plan import Link, Operation, Plan, Skipped, Source, write_plan
from tests.reports.rundirs import write_run
from tests.reports.summary_shape import shape_errors


def operation(key: str, *, linked: bool = False) -> Operation:
    method, path = key.split(" ")
    source = Source(source="GET /items", fields=["id"])
    links = [Link(param="item_id", location="path", sources=[source])] if linked else []
    return Operation(key=key, method=method, path=path, weight=1.0, variants=[], links=links,
                     harvest={})  # fmt: skip


PLAN = Plan(
    found=5,
    methods=["GET", "HEAD"],
    operations=[
        operation("GET /items"),
        operation("GET /items/{item_id}", linked=True),
        operation("GET /never"),
    ],  # fmt: skip
    skipped=[
        Skipped(key="POST /items", reason="POST is not sent unless asked: pass --methods POST"),
        Skipped(key="GET /upload", reason="no valid request: Cannot generate data for body"),
    ],
    generation_ms=12.5,
)


def requests(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"method": [r[0] for r in rows], "name": [r[1] for r in rows],
         "status": [r[2] for r in rows]}
    )  # fmt: skip


def test_answers_are_counted_by_class_per_operation() -> None:
    got = coverage(PLAN, requests(
        ("GET", "/items", 200), ("GET", "/items", 200), ("GET", "/items/{item_id}", 404),
        ("GET", "/items/{item_id}", 200), ("GET", "/items/{item_id}", 0),
        ("GET", "/items/{item_id}", 503), ("GET", "/elsewhere", 200),
    ))  # fmt: skip
    assert got is not None
    assert (got["found"], got["planned"], got["exercised"]) == (5, 3, 2)
    assert got["not_exercised"] == ["GET /never"]
    assert got["operations"]["GET /items/{item_id}"] == {
        "requests": 4, "2xx": 1, "3xx": 0, "4xx": 1, "5xx": 1, "no_response": 1,
        "weight": 1.0, "linked": ["item_id"],
    }  # fmt: skip
    assert got["skipped"][1] == PLAN["skipped"][1]


def test_a_run_without_a_plan_has_no_coverage_and_no_requests_count_nothing() -> None:
    assert coverage(None, requests()) is None
    empty = coverage(PLAN, requests())
    assert empty is not None
    assert empty["exercised"] == 0
    assert coverage_lines(empty)[0] == (
        "openapi: 5 operations in the schema, 0 exercised, 2 skipped"
    )


def test_status_classes() -> None:
    assert [status_class(s) for s in (200, 302, 404, 500, 0, 99)] == [
        "2xx", "3xx", "4xx", "5xx", "no_response", "no_response"
    ]  # fmt: skip


def test_the_lines_name_every_gap() -> None:
    got = coverage(PLAN, requests(("GET", "/items", 200), ("GET", "/items/{item_id}", 404),
                                  ("GET", "/items/{item_id}", 404)))  # fmt: skip
    assert coverage_lines(got) == [
        "openapi: 5 operations in the schema, 2 exercised (answers 2xx 33%, 4xx 67%), 2 skipped",
        "  not sent without --methods POST: POST /items",
        "  skipped GET /upload: no valid request: Cannot generate data for body",
        "  planned but never sent: GET /never",
        "  mostly not 2xx: GET /items/{item_id} (0 of 2 2xx)",
    ]
    assert got is not None
    rows = coverage_rows(got)
    assert rows[1] == ["GET /items/{item_id}", "2", "0", "0", "2", "0", "0", "item_id"]
    assert rows[-1][:2] == [
        "GET /upload",
        "skipped: no valid request: Cannot generate data for body",
    ]


def test_a_summary_with_coverage_matches_the_types(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", rows=300, stalls=False, gauges=False)
    write_plan(run / rundir.OPENAPI_PLAN, PLAN)
    summary = summarize(load_run(run))
    assert shape_errors(summary, Summary) == []
    scenario = summary.get("scenario")
    assert scenario is not None
    assert scenario["coverage"] is not None
    assert scenario["coverage"]["operations"]["GET /items"]["requests"] == 0  # rows are GET /a
    assert "## Coverage (openapi scenario)" in render_markdown(summary)


def test_what_lagscope_chose_to_send_is_said() -> None:
    chosen = Plan(**{**PLAN, "methods": ["POST"], "skipped": []})
    chosen["choice"] = "the schema has no GET or HEAD operation, so its 1 operation (POST) is sent"
    got = coverage(chosen, requests(("GET", "/items", 200)))
    assert got is not None
    assert got["choice"] == chosen["choice"]
    assert coverage_lines(got)[1] == f"  sent without --methods: {chosen['choice']}"
    plain = coverage(PLAN, requests())
    assert plain is not None
    assert plain["choice"] is None
