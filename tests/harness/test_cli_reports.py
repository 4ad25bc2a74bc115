"""``lagscope report`` and ``lagscope compare`` on run directories written by hand, in process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lagscope.harness.cli.main import main

from tests.reports.rundirs import write_failed_start, write_run


def test_report_says_each_slo_check_once_with_its_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run", rows=2000, stalls=False, gauges=False, slow_share=0.3)
    assert main(["report", str(run), "--slo", "default"]) == 1
    out, err = capsys.readouterr()
    slo_lines = [line for line in out.splitlines() if line.startswith("SLO ")]
    assert [line.split(":")[0] for line in slo_lines] == [
        "SLO success>=99.9%", "SLO p95<200ms", "SLO p99<500ms"
    ]  # fmt: skip
    p95 = slo_lines[1]
    assert re.fullmatch(
        r"SLO p95<200ms: FAIL, actual \d{3}\.\d ms \(target < 200 ms\); "
        r"GET /slow made \d+% of the [\d,]+ requests over 200 ms",
        p95,
    ), p95
    # stderr says why the exit code is 1, without a second, different rendering of the check
    assert err.strip().splitlines() == [
        "lagscope: the SLO failed (3 of 3 checks, see above); exit code 1"
    ]
    assert "p95<200ms" not in err


def test_compare_prints_the_endpoints_and_the_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_run(tmp_path / "a", rows=2000, stalls=False, gauges=False, slow_share=0.03)
    b = write_run(tmp_path / "b", rows=2000, stalls=False, gauges=False, slow_share=0.3)
    assert main(["compare", str(a), str(b)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert f"A: {a} (faults: none)" in lines
    (warning,) = [line for line in lines if line.startswith("WARNING ")]
    assert "The endpoint mix differs" in warning
    assert any(line.startswith("│ GET /slow ") and " pp " in line for line in lines)
    assert f"comparison page: {a / 'compare-b.html'}" in err


def test_report_of_a_run_whose_target_never_started_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_failed_start(tmp_path / "run")
    assert main(["report", str(run)]) == 0  # the report was written; no SLO was given
    out, err = capsys.readouterr()
    assert "No findings" not in out
    assert "CRITICAL no_requests at logs/target.log" in out
    assert "The run collected no requests: the target never started serving." in out
    assert f"{run}/logs/target.log" in out  # where to read why
    assert err == ""  # no chart warnings
