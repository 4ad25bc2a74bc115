"""Other lagscope runs are found by their processes' run directory, and their CPU measured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from lagscope.harness.run.neighbours import Neighbours

from lagscope import rundir

BUSY = "import time\nend = time.time() + 30\nwhile time.time() < end: pass\n"


def test_a_busy_process_of_another_run_is_found_and_measured(tmp_path: Path) -> None:
    env = {**os.environ, rundir.ENV_RUN_DIR: str(tmp_path / "other")}
    mine = {**os.environ, rundir.ENV_RUN_DIR: str((tmp_path / "mine").resolve())}
    other = subprocess.Popen([sys.executable, "-c", BUSY], env=env)
    ours = subprocess.Popen([sys.executable, "-c", BUSY], env=mine)
    try:
        neighbours = Neighbours(tmp_path / "mine")
        neighbours.sample()  # finds it, takes the CPU baseline
        time.sleep(1.0)
        cpu, runs = neighbours.sample()
        assert str(tmp_path / "other") in runs  # (other runs on this machine may show too)
        assert str((tmp_path / "mine").resolve()) not in runs  # never this run's own
        assert cpu > 2.0  # a spinning process (its share of a busy shared machine)
    finally:
        for proc in (other, ours):
            proc.kill()
            proc.wait()


def test_a_machine_without_other_runs_reports_none(tmp_path: Path) -> None:
    neighbours = Neighbours(tmp_path / "alone")
    neighbours.sample()
    cpu, runs = neighbours.sample()
    assert [run for run in runs if run.startswith(str(tmp_path))] == []
