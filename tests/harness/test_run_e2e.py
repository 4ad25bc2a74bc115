"""`lagscope run` end to end: real uvicorn, real Locust, real downstream, on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from lagscope.harness.cli.main import main

REPO = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "apps"
LIBS = Path(__file__).resolve().parent / "libs"

pytestmark = pytest.mark.e2e


def lagscope_run(out: Path, *args: str) -> dict[str, Any]:
    code = main(["run", "--out", str(out), "--duration", "6s", "--users", "10", *args])
    assert code == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def marked_line(path: Path, marker: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.rstrip().endswith(marker):
            return number
    raise AssertionError(f"{marker} not in {path}")


def kinds(summary: dict[str, Any]) -> set[str]:
    return {finding["kind"] for finding in summary["diagnosis"]}


@pytest.fixture(scope="module")
def blocking_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("blocking") / "run"
    return out, lagscope_run(out, "--app", "shop", "--fault", "blocking_io")


def test_blocking_io_is_found_at_the_seeded_line(
    blocking_run: tuple[Path, dict[str, Any]],
) -> None:
    _, summary = blocking_run
    seeded = REPO / "target_apps/shop/faults/blocking_io.py"
    line = marked_line(seeded, "# noqa: ASYNC210")  # the seeded line carries this
    blocking = [f for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"]
    # The seeded line comes first, and critical. On a machine shared with other work a few
    # near-threshold stalls of shop's own CPU work can add a warning (CI once saw 3 stalls,
    # 33 ms in all, at list_products while another lagscope run used 44 % of a core); the
    # healthy-shop tests are where the absence of such findings is specified.
    finding = blocking[0]
    assert finding["location"] == f"target_apps/shop/faults/blocking_io.py:{line}"
    assert finding["severity"] == "critical"
    assert all(other["severity"] == "warning" for other in blocking[1:]), blocking
    assert finding["endpoint"] == "POST /orders"
    assert finding["cause"] == "wait"
    assert "stalls" in finding["evidence"]
    assert "httpx.AsyncClient" in finding["remedy"]


def test_run_directory_holds_every_documented_file(
    blocking_run: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = blocking_run
    for name in ["run.json", "events.jsonl", "requests.parquet", "resources.csv",
                 "summary.json", "report.md", "logs/target.log", "logs/locust.log"]:  # fmt: skip
        assert (out / name).is_file(), name
    (worker,) = (out / "workers").iterdir()
    assert {p.name for p in worker.iterdir()} >= {"meta.json", "lag.csv", "stalls.jsonl"}
    assert not (out / "spool").exists()  # merged into requests.parquet
    requests = pd.read_parquet(out / "requests.parquet")
    assert requests["latency_ms"].dtype == "float64"
    assert (requests["latency_ms"] % 1 != 0).any()  # exact, not rounded to whole ms
    assert set(pd.read_csv(out / "resources.csv")["role"]) >= {"target", "load_generator"}
    agg = summary["requests"]["aggregate"]
    assert agg["count"] > 100
    assert agg["p50_ms"] <= agg["p90_ms"] <= agg["p95_ms"] <= agg["p99_ms"] <= agg["max_ms"]
    assert summary["loop"]["stall_count"] > 0
    assert summary["resources"]["target"]["rss_mb_peak"] > 20


def test_without_the_fault_there_is_no_blocking_finding(tmp_path: Path) -> None:
    summary = lagscope_run(tmp_path / "run", "--app", "shop")
    assert "event_loop_blocking" not in kinds(summary)
    assert summary["requests"]["aggregate"]["failures"] == 0


def test_someone_elses_app_has_every_blocking_line_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)
    monkeypatch.setenv("PYTHONPATH", str(LIBS))
    summary = lagscope_run(tmp_path / "run", "--app", "blocky.app:app", "--users", "8")
    blamed = {b["location"]: b for b in summary["loop"]["top_blockers"]}
    app_py, helpers_py = APPS / "blocky/app.py", APPS / "blocky/helpers.py"
    expected = {
        f"blocky/app.py:{marked_line(app_py, '# BLOCKS: dependency')}": None,
        f"blocky/app.py:{marked_line(app_py, '# BLOCKS: middleware')}": None,
        f"blocky/helpers.py:{marked_line(helpers_py, '# BLOCKS: nested helper')}": "GET /invoice",
        f"blocky/app.py:{marked_line(app_py, '# BLOCKS: cpu hash')}": "GET /hash",
        f"blocky/app.py:{marked_line(app_py, '# BLOCKS: urllib')}": "GET /urllib",
        f"blocky/app.py:{marked_line(app_py, '# BLOCKS: library')}": "GET /rates",
    }
    assert set(expected) <= set(blamed), sorted(blamed)
    for location, endpoint in expected.items():
        if endpoint is not None:
            assert blamed[location]["endpoint"] == endpoint
    assert blamed[f"blocky/app.py:{marked_line(app_py, '# BLOCKS: cpu hash')}"]["cause"] == "cpu"
    assert blamed[f"blocky/app.py:{marked_line(app_py, '# BLOCKS: urllib')}"]["cause"] == "wait"
    innocent = [
        marked_line(app_py, "# innocent: awaits"),
        marked_line(app_py, "# innocent: a sync def endpoint runs in the threadpool"),
    ]
    assert not any(loc in blamed for loc in (f"blocky/app.py:{n}" for n in innocent))
    assert all(b["endpoint"] not in {"GET /sleepy", "GET /threaded"} for b in blamed.values())
    assert {f["location"] for f in summary["diagnosis"]} >= set(expected)
