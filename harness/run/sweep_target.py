"""The servers of one sweep configuration, lent to its steps while they stay healthy.

The rule, applied before every step after a configuration's first (``acquire``): the
step reuses the running target when the step before ended normally (outcome
``completed``; it may have failed the SLO), the plan switches on no seeded fault (they
pile up state, such as leaked sessions or tasks, from one step into the next), and
``Lease.health`` finds every worker alive, none replaced, each loop beating and ``GET /``
answered; it then waits (up to QUIET_WAIT_S) for the target's CPU to fall, so that it
has worked off the last step's requests.  Otherwise the target is stopped and a fresh
one started.  The step records which happened and why.
"""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path
from typing import Literal

import psutil
from lagscope.harness.run.lease import Lease
from lagscope.harness.run.sweep_plan import Point, SweepPlan, step_config
from lagscope.harness.run.target import Startup

TargetUse = Literal["started", "reused", "restarted"]
QUIET_CPU_PCT = 15.0  # per worker: below this the target has worked off the last step
QUIET_WAIT_S = 5.0  # at most, between steps
FAULTS_REASON = "the plan's seeded faults (--fault) carry state from one step into the next"


class PointTarget:
    """Starts, lends, checks and stops the target of one configuration (a context manager:
    whatever happens, the target is stopped when the configuration's steps end)."""

    def __init__(self, plan: SweepPlan, point: Point, point_dir: Path) -> None:
        self.plan = plan
        self.point = point
        self.dir = point_dir
        self.lease: Lease | None = None
        self.starts = 0
        self.outcome = "completed"  # of the last step on the lease

    def __enter__(self) -> PointTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def acquire(self, *, first_ever: bool) -> tuple[Lease, TargetUse, str]:
        """The servers for the next step: (lease, how it came, why).

        The running target is reused when the step before left it healthy (and has worked
        off that step's load first); else it is stopped and a fresh one started.
        """
        why = self.unfit()
        if self.lease is not None and why is None:
            wait_quiet(self.lease, workers=self.point.workers)
            return self.lease, "reused", "the previous step left it healthy"
        use: TargetUse = "started" if self.starts == 0 else "restarted"
        if self.starts == 0:
            why = "first step of this configuration"
            if not first_ever:
                why += " run by this process (--resume)"
        self.close()
        self.starts += 1
        folder = self._next_folder()
        config = step_config(self.plan, self.point, rate=self.plan.limits.start, out=folder)
        self.lease = Lease(config, folder, startup=Startup(timeout_s=config.startup_timeout_s))
        return self.lease, use, why or ""

    def _next_folder(self) -> Path:
        """``target-NN``, numbered on from those there (a resumed sweep keeps its own)."""
        taken = [int(p.name[7:]) for p in self.dir.glob("target-*") if p.name[7:].isdigit()]
        return self.dir / f"target-{max(taken, default=0) + 1:02d}"

    def finished(self, outcome: str) -> None:
        """A step on the lease ended with ``outcome`` (summary.json's ``run.outcome``)."""
        self.outcome = outcome

    def unfit(self) -> str | None:
        """Why the running target may not serve another step (None: it may)."""
        if self.lease is None:
            return None
        if self.plan.faults:
            return FAULTS_REASON
        if self.outcome != "completed":
            return f"the step before ended {self.outcome}"
        return self.lease.health()

    def close(self) -> None:
        """Stop the servers (a Ctrl-C meanwhile waits: the stop must finish)."""
        if self.lease is None:
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.lease.stop()
        finally:
            signal.signal(signal.SIGINT, previous)
        self.lease = None


def wait_quiet(lease: Lease, *, workers: int) -> float:
    """Wait (up to QUIET_WAIT_S) until the target's CPU falls below QUIET_CPU_PCT a worker:
    the next step starts on a server that finished the last one's requests.  The wait."""
    started = time.monotonic()
    procs = []
    for pid in lease.target.pids():
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            proc.cpu_percent(None)
            procs.append(proc)
    while time.monotonic() - started < QUIET_WAIT_S:
        time.sleep(0.25)
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.cpu_percent(None)
        if total < QUIET_CPU_PCT * workers:
            break
    return time.monotonic() - started
