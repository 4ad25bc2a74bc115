"""The resource sampler: psutil readings of every process the run started, once a second.

Runs as a thread of the harness (never inside the target or the load generator, so it
costs them nothing) and appends to ``resources.csv``:

    t, role, pid, ppid, name, rss_mb, cpu_pct, threads, fds, connections

It also measures the CPU that other lagscope runs' processes take (``other_runs`` events,
every few seconds while any is seen).  A failed write (a full disk) keeps the rows for the
next try and is held in ``write_error`` for the control process to act on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from lagscope.harness.run.neighbours import Neighbours

from lagscope import rundir, runfiles
from lagscope.appends import PendingLines
from lagscope.errors import RunDirError

COLUMNS = ",".join(rundir.RESOURCE_COLUMNS) + "\n"
OTHER_RUNS_EVERY_S = 5.0


class ResourceSampler(threading.Thread):
    """Samples the process trees rooted at ``roots`` (role -> pid) every ``interval_s``."""

    def __init__(
        self,
        path: Path,
        *,
        roots: Callable[[], dict[str, int]],
        interval_s: float = 1.0,
    ) -> None:
        super().__init__(name="lagscope-sampler", daemon=True)
        self.path = path
        self.roots = roots
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._procs: dict[int, psutil.Process] = {}  # kept so cpu_percent has a baseline
        self.write_error: OSError | None = None  # the first failed write, for the harness
        self._rows = PendingLines(path)  # rows not yet written
        self._neighbours = Neighbours(path.parent)
        self._shared: list[tuple[float, list[str]]] = []  # other runs' CPU since the last event

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=5.0)

    def run(self) -> None:
        if not self.path.exists() or not self.path.stat().st_size:
            self._rows.add(COLUMNS)
        self.sample()  # discarded: psutil's first cpu_percent of a process is 0.0
        self._neighbours.sample()
        last_event = time.monotonic()
        while not self._stopping.wait(self.interval_s):
            self._rows.add(self.sample())
            self._write()
            self._shared.append(self._neighbours.sample())
            if time.monotonic() - last_event >= OTHER_RUNS_EVERY_S:
                self._log_other_runs(time.monotonic() - last_event)
                last_event = time.monotonic()
        self._log_other_runs(time.monotonic() - last_event)
        self._write()  # a last try for rows a full disk held back

    def _write(self) -> None:
        if not self._rows.flush():  # kept for the next try
            self.write_error = self.write_error or self._rows.error

    def _log_other_runs(self, seconds: float) -> None:
        shared, self._shared = self._shared, []
        runs = sorted({run for _, seen in shared for run in seen})
        if not runs:
            return
        cpu = sum(c for c, _ in shared) / len(shared)
        try:
            runfiles.log_event(
                self.path.parent, "other_runs", runs=runs, cpu_pct=round(cpu, 1),
                seconds=round(seconds, 1),
            )  # fmt: skip
        except RunDirError as exc:
            cause = exc.__cause__
            self.write_error = self.write_error or (cause if isinstance(cause, OSError) else None)

    def _tree(self, pid: int) -> list[psutil.Process]:
        try:
            root = self._procs.get(pid) or psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        return [self._procs.setdefault(p.pid, p) for p in tree]

    def sample(self) -> str:
        """Read every process once; return the CSV rows."""
        now = time.time()
        rows = []
        for role, pid in self.roots().items():
            for proc in self._tree(pid):
                row = _read(proc)
                if row is not None:
                    rows.append(f"{now:.3f},{role},{proc.pid},{row}\n")
        return "".join(rows)


def _read(proc: psutil.Process) -> str | None:
    try:
        with proc.oneshot():
            rss = proc.memory_info().rss / 1e6
            cpu = proc.cpu_percent(None)
            threads = proc.num_threads()
            fds = proc.num_fds()
            conns = len(proc.net_connections(kind="inet"))
            name = proc.name().replace(",", "_")
            ppid = proc.ppid()
    except psutil.Error:
        return None
    return f"{ppid},{name},{rss:.2f},{cpu:.1f},{threads},{fds},{conns}"
