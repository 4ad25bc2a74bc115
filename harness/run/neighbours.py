"""Other lagscope runs on this machine, and the CPU their processes take from this one.

A run's servers and load generator carry their run directory in ``LAGSCOPE_RUN_DIR``, and
its servers the harness's pid in ``LAGSCOPE_HARNESS_PID``; any process with another run
directory belongs to another run, unless this process started it (a sweep lends the
servers it started, with their own directory, to each of its steps).  Each process's
environment is read once (when its pid is first seen), so a scan costs a directory
listing of ``/proc`` and the new pids.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from lagscope import rundir


class Neighbours:
    """Finds the processes of other lagscope runs and measures their CPU."""

    def __init__(self, own_run_dir: Path) -> None:
        self.own = str(own_run_dir.resolve())
        self._known: dict[int, str | None] = {}  # pid -> its run directory (None: not a run's)
        self._procs: dict[int, psutil.Process] = {}  # kept so cpu_percent has a baseline
        self._mine = {os.getpid()}

    def _run_of(self, proc: psutil.Process) -> str | None:
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            return None
        run_dir = env.get(rundir.ENV_RUN_DIR)
        harness = env.get(rundir.ENV_HARNESS_PID, "")
        if run_dir is None or run_dir == self.own or harness == str(os.getpid()):
            return None  # servers this process started are this run's (a sweep's lent target)
        if harness.isdigit() and int(harness) not in self._mine:
            self._known[int(harness)] = run_dir  # the other run's control process
        return run_dir

    def sample(self) -> tuple[float, list[str]]:
        """CPU % (of one core, summed) of other runs' processes since the last sample, and
        their run directories."""
        pids = set(psutil.pids())
        for pid in list(self._known):
            if pid not in pids:
                del self._known[pid]
                self._procs.pop(pid, None)
        for pid in pids - self._known.keys() - self._mine:
            try:
                self._known[pid] = self._run_of(psutil.Process(pid))
            except psutil.Error:
                continue
        cpu, runs = 0.0, set()
        for pid, run_dir in list(self._known.items()):
            if run_dir is None:
                continue
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)  # the first reading is a baseline
                    continue
                cpu += proc.cpu_percent(None)
                runs.add(run_dir)
            except psutil.Error:
                self._procs.pop(pid, None)
        return cpu, sorted(runs)
