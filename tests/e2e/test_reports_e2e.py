"""Reports of real runs: SLO exit codes, the profiled window, ``report`` and ``compare``.

Two short runs (a blocking run, profiled mid-run, and its fixed twin) are shared by
the tests of this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKING_LOCATION = "target_apps/shop/faults/blocking_io.py"


def lagscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lagscope", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("reports")
    blocking = lagscope(
        "run", "--app", "shop", "--fault", "blocking_io", "--duration", "8s", "--profile", "2s",
        "--slo", "p99<1ms", "--slo", "success>=50%", "--out", str(base / "blocking"),
    )  # fmt: skip
    fixed = lagscope(
        "run", "--app", "shop", "--duration", "5s", "--slo", "p99<10s", "--out",
        str(base / "fixed"),
    )  # fmt: skip
    return {"base": base, "blocking": blocking, "fixed": fixed}


def _summary(run_dir: Path) -> dict[str, object]:
    return json.loads((run_dir / "summary.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_an_slo_breach_exits_1_and_names_the_failed_check(runs: dict) -> None:
    blocking = runs["blocking"]
    assert blocking.returncode == 1, blocking.stderr
    assert "SLO p99<1ms: FAIL, actual " in blocking.stdout
    assert "SLO success>=50%: pass, actual " in blocking.stdout  # the passing check is not blamed
    assert "the SLO failed (1 of 2 checks, see above); exit code 1" in blocking.stderr
    slo = _summary(runs["base"] / "blocking")["slo"]
    assert slo["passed"] is False
    assert [(c["name"], c["passed"]) for c in slo["checks"]] == [
        ("p99<1ms", False),
        ("success>=50%", True),
    ]
    assert runs["fixed"].returncode == 0, runs["fixed"].stderr
    assert _summary(runs["base"] / "fixed")["slo"]["passed"] is True


@pytest.mark.e2e
def test_bad_slo_text_is_a_one_line_usage_error() -> None:
    bad = lagscope("run", "--slo", "p99<<1ms", "--duration", "5s")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr


@pytest.mark.e2e
def test_requests_under_the_profiler_are_reported_apart_with_the_overhead(runs: dict) -> None:
    run_dir = runs["base"] / "blocking"
    summary = _summary(run_dir)
    profile = summary["profile"]
    assert profile is not None, runs["blocking"].stderr
    assert 1.5 <= profile["seconds"] <= 5.0
    assert profile["requests"]["count"] > 0
    assert profile["overhead"]["rps_inside"] is not None
    assert profile["overhead"]["rps_outside"] is not None
    (files,) = profile["files"]
    assert "pyinstrument" in (run_dir / files["html"]).read_text()
    speedscope = json.loads((run_dir / files["speedscope"]).read_text())
    assert "speedscope" in speedscope["$schema"]
    # No headline request overlapped the profiled window.
    import pandas as pd

    requests = pd.read_parquet(run_dir / "requests.parquet")
    sent, done = requests["t"], requests["t"] + requests["latency_ms"] / 1000.0
    overlapping = int(((sent <= profile["end"]) & (done >= profile["start"])).sum())
    steady = summary["requests"]["aggregate"]["count"]
    in_window = int(
        ((sent >= summary["window"]["start"]) & (sent <= summary["window"]["end"])).sum()
    )
    assert steady == in_window - profile["requests"]["count"]
    assert overlapping >= profile["requests"]["count"]
    html = (run_dir / "report.html").read_text()
    assert files["html"] in html
    assert 'id="profile-overhead"' in html


@pytest.mark.e2e
def test_report_html_is_self_contained(runs: dict) -> None:
    html = (runs["base"] / "blocking" / "report.html").read_text()
    for fetch in ("<script src", "<link ", '<img src="http', "url(http", "@import"):
        assert fetch not in html
    assert html.count("<svg") == 5
    for chart in ("latency", "throughput", "loop-lag", "resources", "gauges"):
        assert (runs["base"] / "blocking" / "charts" / f"{chart}.png").stat().st_size > 5000


@pytest.mark.e2e
def test_report_rerenders_saved_data_with_new_slos(runs: dict) -> None:
    run_dir = runs["base"] / "blocking"
    (run_dir / "report.html").unlink()
    again = lagscope("report", str(run_dir), "--slo", "p99<60s")
    assert again.returncode == 0, again.stderr
    assert (run_dir / "report.html").exists()
    assert _summary(run_dir)["slo"]["checks"][0]["name"] == "p99<60000ms"
    kept = lagscope("report", str(run_dir))  # the run's own SLOs, from run.json
    assert kept.returncode == 1
    assert "SLO p99<1ms: FAIL" in kept.stdout


@pytest.mark.e2e
def test_compare_names_the_finding_that_disappeared_and_the_p99_change(runs: dict) -> None:
    base = runs["base"]
    out = base / "compare.html"
    result = lagscope("compare", str(base / "blocking"), str(base / "fixed"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    gone = [line for line in result.stdout.splitlines() if line.startswith("only in A")]
    assert any("event_loop_blocking" in line and BLOCKING_LOCATION in line for line in gone)
    p99 = next(line for line in result.stdout.splitlines() if "│ P99 " in line)
    assert "−" in p99  # the fixed twin's P99 is lower
    html = out.read_text()
    assert 'id="only-a"' in html
    assert BLOCKING_LOCATION in html.split('id="only-a"')[1].split("</ul>")[0]
    assert html.count("<svg") == 3
