"""Runs end cleanly however they end: Ctrl-C, the harness killed, the target crashing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tests.interrupt import interruptible

pytestmark = pytest.mark.e2e
APPS = Path(__file__).resolve().parent / "apps"


def processes_of(run_dir: Path) -> list[psutil.Process]:
    """Every live process started for ``run_dir`` (they carry it in their environment)."""
    found = []
    marker = str(run_dir.resolve())
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("LAGSCOPE_RUN_DIR") == marker and proc.status() != "zombie":
                found.append(proc)
        except psutil.Error:
            continue
    return found


def start_run(out: Path, *args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lagscope", "run", "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=interruptible,
    )


def wait_for_event(out: Path, event: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = out / "events.jsonl"
        if events.exists() and f'"event": "{event}"' in events.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {event} in {out}/events.jsonl")


def wait_until_gone(out: Path, timeout: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := processes_of(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_ctrl_c_stops_everything_and_keeps_the_data(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start_run(out, "--fault", "blocking_io", "--duration", "60s", "--users", "5")
    wait_for_event(out, "load_start")
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in stderr
    assert wait_until_gone(out) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["outcome"] == "interrupted"
    # The terminal says so first, with the seconds of load the figures rest on.
    after = summary["run"]["interrupted_after_s"]
    assert 2.0 < after < 10.0
    assert stdout.splitlines()[0] == (
        f"Interrupted after {after:g} s of the 60 s load: the report covers what was "
        "collected until then."
    )
    assert len(pd.read_parquet(out / "requests.parquet")) > 0
    assert summary["loop"]["stall_count"] > 0


def test_a_killed_harness_leaves_no_process_and_keeps_what_was_collected(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    proc = start_run(out, "--duration", "60s", "--users", "5")
    wait_for_event(out, "load_start")
    time.sleep(2.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert wait_until_gone(out) == []
    parts = list((out / "spool").glob("requests-*.parquet"))
    assert parts  # never merged, but every second's rows are on disk
    assert sum(len(pd.read_parquet(p)) for p in parts) > 0
    lag = pd.read_csv(next((out / "workers").glob("*/lag.csv")))
    assert len(lag) > 100  # ~100 heartbeats a second, flushed every second
    # What was collected can still be reported.
    report = subprocess.run(
        [sys.executable, "-m", "lagscope", "report", str(out)], capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    assert json.loads((out / "summary.json").read_text())["requests"]["aggregate"]["count"] > 0


def test_a_crashing_target_ends_the_run_with_what_it_had(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start_run(out, "--app", "crashy.app:app", "--duration", "30s", "--users", "3", cwd=APPS)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["outcome"] == "target_crashed"
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (exited,) = [e for e in events if e["event"] == "target_exited"]
    assert exited["code"] == 17
    assert summary["requests"]["aggregate"]["count"] > 0
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == "target_crashed"]
    assert "exit code 17" in finding["evidence"]
    assert wait_until_gone(out) == []
