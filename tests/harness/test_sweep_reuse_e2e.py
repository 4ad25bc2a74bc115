"""A sweep's steps share their configuration's target while it stays healthy (real processes)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.interrupt import interruptible

pytestmark = pytest.mark.e2e
APPS = Path(__file__).resolve().parent / "apps"


def sweep(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lagscope", "sweep", "--max-steps", "2", "--out", str(out), *args],
        cwd=APPS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=interruptible,
    )  # fmt: skip


def steps(out: Path) -> list[dict[str, Any]]:
    try:
        state = json.loads((out / "sweep.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return [step for point in state["points"].values() for step in point["steps"]]


def first_event(run_dir: Path, name: str) -> float:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return min(e["t"] for e in events if e["event"] == name)


def processes_of(out: Path) -> list[psutil.Process]:
    """Every live process whose run directory lies under ``out``."""
    found = []
    for proc in psutil.process_iter():
        try:
            run_dir = proc.environ().get("LAGSCOPE_RUN_DIR", "")
        except (psutil.Error, OSError):
            continue
        if run_dir.startswith(str(out)) and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_steps_of_one_configuration_are_served_by_one_target(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    # 120 requests a step: a 1 s step's P99 of 20 sends is the one late send of a new user.
    proc = sweep(out, "--app", "sizing.app:app", "--scenario", "sizing/cpu_scenario.py",
                 "--workers", "1", "--step-duration", "2s", "--start-rate", "60")  # fmt: skip
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    first, second = steps(out)  # 60 req/s and its confirmation (or 30, if 60 failed)
    assert (first["target"], second["target"]) == ("started", "reused")
    assert second["target_reason"] == "the previous step left it healthy"
    assert first["target_pid"] == second["target_pid"]
    assert "target reused" in stdout
    rows = []
    for step in (first, second):
        run_dir = out / step["run_dir"]
        # The same worker served both steps.
        assert [p.name for p in (run_dir / "workers").iterdir()] == [str(step["target_pid"])]
        lag = (run_dir / "workers" / str(step["target_pid"]) / "lag.csv").read_text()
        assert lag.startswith("t,lag_ms\n")
        rows.append([float(line.split(",")[0]) for line in lag.splitlines()[1:]])
        # Its loop's lag covers the step's load ...
        assert min(rows[-1]) <= first_event(run_dir, "load_start")
        assert max(rows[-1]) >= first_event(run_dir, "load_stop")
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["loop"]["workers"] == 1
        assert summary["resources"]["target"]["cpu_pct_mean"] > 0  # the lent target, sampled
    # ... and no step holds the other's lines.
    assert max(rows[0]) < min(rows[1])
    # The page links the best step's report; the other steps' pages are `lagscope report`'s.
    state = json.loads((out / "sweep.json").read_text())
    best = out / state["results"][0]["run_dir_at_max"]
    assert (best / "report.html").is_file()
    assert not (out / first["run_dir"] / "charts").exists()


def test_a_target_that_died_after_a_step_is_restarted_and_sweep_json_says_why(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sweep"
    # dying's process exits 2.6 s after its first request: right after the first step's
    # 2 s of load (or, on a slow machine, at its end: the step then ends target_crashed).
    proc = sweep(out, "--app", "dying.app:app", "--workers", "1", "--step-duration", "2s",
                 "--start-rate", "60")  # fmt: skip
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    first, second = steps(out)
    assert first["target"] == "started"
    assert second["target"] == "restarted"
    assert second["target_reason"] in {
        "the target server exited (code 17)",
        "the step before ended target_crashed",
    }
    assert second["target_pid"] != first["target_pid"]
    assert processes_of(out) == []


def test_a_target_that_dies_after_its_health_check_is_restarted_for_the_step(
    tmp_path: Path,
) -> None:
    # on_check exits 50 ms after answering the health check's GET / (once loaded): the
    # step about to reuse it cannot start on it (reading its schema fails).  The step runs
    # on a fresh target instead, and the failed start's folder is kept beside it.
    out = tmp_path / "sweep"
    proc = sweep(out, "--app", "dying.app:on_check", "--workers", "1", "--step-duration", "2s",
                 "--start-rate", "60")  # fmt: skip
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    first, second = steps(out)
    assert (first["target"], second["target"]) == ("started", "restarted")
    assert second["target_reason"] == "the target server exited (code 17)"
    assert second["target_pid"] != first["target_pid"]
    assert second["run_dir"].endswith("-2")  # the failed start's folder is the plain name
    assert (out / second["run_dir"][: -len("-2")] / "events.jsonl").is_file()
    assert processes_of(out) == []


def test_ctrl_c_mid_sweep_leaves_no_process(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = sweep(out, "--app", "sizing.app:app", "--scenario", "sizing/cpu_scenario.py",
                 "--workers", "2", "--step-duration", "3s", "--start-rate", "60",
                 "--max-steps", "3")  # fmt: skip
    deadline = time.monotonic() + 60
    while not steps(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # into the second step, on the reused target
    assert processes_of(out), "the target should be serving the second step"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert processes_of(out) == []
    assert not psutil.pid_exists(steps(out)[0]["target_pid"])
