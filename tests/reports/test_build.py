"""The pipeline on a run directory written by hand: every output file, gauges included."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.reports.build import build, build_compare

from tests.reports.rundirs import write_failed_start
from tests.reports.rundirs import write_run as _write_run


def test_build_writes_every_output_and_renders_the_gauges(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "run", rows=400, stalls=True, gauges=True)
    summary = build(run)
    for name in ("summary.json", "report.md", "report.html"):
        assert (run / name).stat().st_size > 0
    assert sorted(p.name for p in (run / "charts").iterdir()) == [
        "gauges.png", "latency.png", "loop-lag.png", "resources.png", "throughput.png"
    ]  # fmt: skip
    html = (run / "report.html").read_text()
    assert html.count("<svg") == 5
    assert "pool_waiters" in html
    assert "tasks_pending" in html
    assert "top blocker: app.py:9" in html
    # the percentile table's heading is the same, with its unit, in every output
    assert "<h2>Latency (ms, exact, steady window)</h2>" in html
    assert "## Latency (ms, exact, steady window)" in (run / "report.md").read_text()
    assert "uncorrected" not in html  # closed mode: one latency, no open-model section
    assert 'id="open-model"' not in html
    assert "/_lagscope/faults" in html  # the run's configuration is shown ...
    assert "s3cret-admin-token" not in html  # ... but not the secret that switched faults
    kinds = {w["kind"] for w in summary["self_checks"]}
    assert kinds == {"load_generator_saturated", "too_few_requests", "connection_failures"}
    assert summary["slo"] is None
    assert summary["profile"] is None


def test_compare_page_lists_the_finding_only_one_run_has(tmp_path: Path) -> None:
    a = _write_run(tmp_path / "a", rows=400, stalls=True, gauges=False)
    b = _write_run(tmp_path / "b", rows=400, stalls=False, gauges=False)
    result, page = build_compare(a, b)
    assert page == a / "compare-b.html"
    assert [f["location"] for f in result["findings"]["only_a"]] == ["app.py:9"]
    assert result["findings"]["only_b"] == []
    assert "app.py:9" in page.read_text()


def test_compare_shows_per_endpoint_that_only_the_mix_changed(tmp_path: Path) -> None:
    a = _write_run(tmp_path / "a", rows=2000, stalls=False, gauges=False, slow_share=0.03)
    b = _write_run(tmp_path / "b", rows=2000, stalls=False, gauges=False, slow_share=0.3)
    result, page = build_compare(a, b)
    p95 = next(r for r in result["headlines"] if r["name"] == "P95")
    assert p95["ratio"] > 5  # the headline says B got far slower ...
    rows = {e["endpoint"]: {r["name"]: r for r in e["rows"]} for e in result["endpoints"]}
    for endpoint in ("GET /a", "GET /slow"):  # ... but no endpoint did
        assert abs(rows[endpoint]["P95"]["ratio"]) < 0.2
    assert rows["GET /slow"]["share of requests"]["delta"] > 20
    (warning,) = result["warnings"]
    assert warning["kind"] == "endpoint_mix"
    html = page.read_text()
    assert warning["message"] in html
    assert html.count("<tr><td rowspan=") == 2


def test_a_run_without_requests_still_renders(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "run", rows=0, stalls=False, gauges=False)
    summary = build(run, png=False)
    assert summary["requests"]["aggregate"]["count"] == 0
    assert "no requests recorded" in (run / "report.html").read_text()
    assert not (run / "charts").exists()


def test_a_run_whose_target_never_started_says_so_and_points_to_its_log(tmp_path: Path) -> None:
    run = write_failed_start(tmp_path / "run")
    summary = build(run)  # charts of an empty run draw without a warning (warnings are errors)
    (finding,) = summary["diagnosis"]
    assert finding["kind"] == "no_requests"
    assert finding["severity"] == "critical"
    assert (
        f"the target never started serving. Its log says why: {run}/logs/target.log"
        in (finding["summary"])
    )
    assert "logs/target.log ends: RuntimeError: config missing: DB_URL" in finding["evidence"]
    html = (run / "report.html").read_text()
    verdict = html.split('id="verdict"')[1].split("</div>")[0]
    assert "critical" in verdict
    assert "collected no requests" in verdict
    assert "No findings" not in html
    assert "No findings" not in (run / "report.md").read_text()
    assert len(list((run / "charts").iterdir())) == 5


@pytest.mark.parametrize("missing", ["run.json"])
def test_a_directory_that_is_not_a_run_is_a_lagscope_error(tmp_path: Path, missing: str) -> None:
    from lagscope.errors import RunDataError

    with pytest.raises(RunDataError, match=missing):
        build(tmp_path)
