"""The pipeline on a run directory written by hand: every output file, gauges included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.load_schema import SCHEMA
from reports import build
from reports.build import build_compare

T0 = 1_700_000_000.0


def _write_run(
    path: Path, *, rows: int, stalls: bool, gauges: bool, slow_share: float = 0.0
) -> Path:
    """A closed-model run of ``rows`` requests to GET /a (~10 ms) and, ``slow_share`` of
    them, to GET /slow (~500 ms)."""
    rng = np.random.default_rng(1)
    path.mkdir()
    (path / "run.json").write_text(json.dumps({
        "config": {"app": "hand", "scenario": "s"},
        "admin": {"path": "/_lagscope/faults", "token": "s3cret-admin-token"},
    }))  # fmt: skip
    events = [("load_start", 0.0), ("spawning_complete", 1.0), ("load_stop", 11.0)]
    (path / "events.jsonl").write_text(
        "".join(json.dumps({"t": T0 + dt, "source": "load", "event": e}) + "\n"
                for e, dt in events)
    )  # fmt: skip
    t = np.sort(T0 + rng.uniform(0, 12, rows))
    ok = np.ones(rows, dtype=bool)
    ok[200:203] = False  # inside the steady window
    slow = rng.uniform(0, 1, rows) < slow_share
    latency = np.where(slow, rng.normal(500.0, 20.0, rows), rng.exponential(10.0, rows))
    table = {"t": t, "latency_ms": latency, "method": ["GET"] * rows,
             "name": np.where(slow, "/slow", "/a").tolist(),
             "status": np.where(ok, 200, 0).astype(np.int32), "ok": ok,
             "bytes": np.full(rows, 10), "error": [None if o else "refused" for o in ok],
             "pid": np.full(rows, 1, dtype=np.int32)}  # fmt: skip
    # Rate-mode columns (intended_t, uncorrected_ms, send_lag_ms) are null in closed mode.
    pq.write_table(pa.table({f.name: pa.array(table.get(f.name, [None] * rows), type=f.type)
                             for f in SCHEMA}),
                   path / "requests.parquet")  # fmt: skip
    worker = path / "workers" / "77"
    worker.mkdir(parents=True)
    beats = np.arange(T0, T0 + 12, 0.01)
    worker.joinpath("lag.csv").write_text("t,lag_ms\n" + "".join(f"{b:.6f},0.2\n" for b in beats))
    stall = {"start": T0 + 5, "duration_ms": 300.0, "lag_ms": 295.0, "samples": 10,
             "cpu_share": 0.0, "cause": "wait", "location": "app.py:9", "function": "f",
             "in_user_code": True, "endpoint": "GET /a",
             "stacks": [{"count": 10, "location": "app.py:9", "function": "f",
                         "endpoint": "GET /a", "in_user_code": True,
                         "frames": [["app.py", 9, "f", True]]}]}  # fmt: skip
    worker.joinpath("stalls.jsonl").write_text(json.dumps(stall) + "\n" if stalls else "")
    if gauges:
        worker.joinpath("gauges.csv").write_text(
            "t,pool_waiters,tasks_pending\n"
            + "".join(f"{T0 + s},{s % 3},{10 + s}\n" for s in range(12))
        )
    (path / "resources.csv").write_text(
        "t,role,pid,ppid,name,rss_mb,cpu_pct,threads,fds,connections\n"
        + "".join(f"{T0 + s},load_generator,5,1,python,40,97,1,5,2\n" for s in range(12))
    )
    return path


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


@pytest.mark.parametrize("missing", ["run.json"])
def test_a_directory_that_is_not_a_run_is_a_lagscope_error(tmp_path: Path, missing: str) -> None:
    from harness.exceptions import RunDataError

    with pytest.raises(RunDataError, match=missing):
        build(tmp_path)
