"""The resource sampler: psutil readings of every process the run started, once a second.

Runs as a thread of the harness (never inside the target or the load generator, so it
costs them nothing) and appends to ``resources.csv``:

    t, role, pid, ppid, name, rss_mb, cpu_pct, threads, fds, connections
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from lagscope import rundir

COLUMNS = ",".join(rundir.RESOURCE_COLUMNS) + "\n"


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

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=5.0)

    def run(self) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            if out.tell() == 0:
                out.write(COLUMNS)
            self.sample()  # discarded: psutil's first cpu_percent of a process is 0.0
            while not self._stopping.wait(self.interval_s):
                out.write(self.sample())
                out.flush()

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
