"""Servers started once and lent to several runs: a sweep's target for the steps of one
configuration.

A lease starts the target (and, for the built-in app, its downstream) as a run would,
into a folder of its own; the probe in each worker writes ``workers/<pid>/`` there for as
long as the lease lives.  A run that borrows it marks where every file ends before its
load (``mark``) and copies what was written after that into its own run directory once
its load stopped (``copy_window``), so each run holds its own window, as if it had
started the servers itself.  Between runs ``health`` says whether the servers can serve
the next one, or why not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.processes import Child
from lagscope.harness.run.target import Startup, start_servers

from lagscope import rundir, runfiles

STALE_BEAT_S = 3.0  # a worker whose loop has not beaten for this long is wedged (flushes: 1 s)
ANSWER_TIMEOUT_S = 5.0  # the target must answer GET / within this between runs
FLUSH_WAIT_S = 2.5  # after the load: how long to wait for every worker's lines up to its end
_LINES = (".csv", ".jsonl")  # files the probe appends whole lines to
LEASE_S = 24 * 3600.0  # the workers' own deadline: the harness's death stops them sooner


@dataclass
class Mark:
    """Where each file of the lease ended when a run started (byte offsets, whole lines)."""

    offsets: dict[Path, int] = field(default_factory=dict)


class Lease:
    """The target (and downstream) of one configuration, started once, stopped by ``stop``."""

    def __init__(self, config: RunConfig, directory: Path, *, startup: Startup) -> None:
        """Start the servers ``config`` names into ``directory`` (TargetStartError)."""
        self.config = config
        self.dir = runfiles.create(directory)
        self.children: dict[str, Child] = {}
        self.urls: dict[str, str] = {}
        deadline = time.time() + LEASE_S
        try:
            start_servers(config, self.dir, deadline=deadline, startup=startup,
                          children=self.children, urls=self.urls)  # fmt: skip
        except BaseException:
            self.stop()
            raise
        self.workers = self.worker_pids()  # as started: one that changes is a restart

    @property
    def target(self) -> Child:
        return self.children["target"]

    def stop(self) -> None:
        for name in ("target", "downstream"):
            child = self.children.get(name)
            if child is not None:
                child.stop()

    def worker_pids(self) -> frozenset[int]:
        """The pids of the workers whose probe started (``workers/<pid>/meta.json``)."""
        return frozenset(
            int(meta.parent.name) for meta in self.dir.glob(f"{rundir.WORKERS}/*/{rundir.META}")
        )

    def health(self) -> str | None:
        """None when the servers can serve another run as they are; else why not, in words.

        Healthy: the server and every worker it started are alive, none was replaced,
        each worker's loop beat within ``STALE_BEAT_S`` and the target answers ``GET /``.
        """
        for name, child in self.children.items():
            code = child.exited()
            if code is not None:
                return f"the {name} server exited (code {code})"
        alive = set(self.target.pids())
        for pid in sorted(self.workers):
            if pid not in alive or not psutil.pid_exists(pid):
                return f"worker {pid} exited"
        new = sorted(self.worker_pids() - self.workers)
        if new:
            return f"a worker was replaced (new worker {new[0]})"
        now = time.time()
        for pid in sorted(self.workers):
            beat = last_time(self.dir / rundir.WORKERS / str(pid) / rundir.LAG)
            if beat is None or now - beat > STALE_BEAT_S:
                silent = "never" if beat is None else f"not for {now - beat:.1f} s"
                return f"worker {pid}'s event loop has beaten {silent}"
        try:
            httpx.get(self.urls["target"] + "/", timeout=ANSWER_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return f"the target did not answer GET / within {ANSWER_TIMEOUT_S:g} s ({exc})"
        return None

    def mark(self) -> Mark:
        """Where every file of the lease ends now (at its last whole line)."""
        offsets = {path: whole_lines_end(path) for path in self._files()}
        return Mark(offsets=offsets)

    def copy_window(self, mark: Mark, run_dir: Path, *, until: float) -> None:
        """Copy into ``run_dir`` what every worker and server wrote since ``mark``:
        ``workers/<pid>/`` (CSV files keep their header, meta.json whole) and the logs.

        Waits (up to FLUSH_WAIT_S) until each worker's lag.csv and gauges.csv reach
        ``until`` (the probe flushes them once a second); gc.csv, written only when a
        collection happened, may miss those of the last second.
        """
        self._wait_for_lines(until)
        for path in self._files():
            start = mark.offsets.get(path, 0)
            out = run_dir / path.relative_to(self.dir)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = _read_lines(path, start)
            if path.suffix == ".csv" and start > 0:
                data = _header(path) + data
            out.write_bytes(data)
        for meta in self.dir.glob(f"{rundir.WORKERS}/*/{rundir.META}"):
            out = run_dir / meta.relative_to(self.dir)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(meta.read_bytes())

    def _files(self) -> list[Path]:
        """The lease's growing files: each worker's lines and the servers' logs."""
        found = [p for p in self.dir.glob(f"{rundir.WORKERS}/*/*") if p.suffix in _LINES]
        found += sorted((self.dir / rundir.LOGS).glob("*.log"))
        return found

    def _wait_for_lines(self, until: float) -> None:
        deadline = time.monotonic() + FLUSH_WAIT_S
        alive = self.workers & set(self.target.pids())
        files = [self.dir / rundir.WORKERS / str(pid) / name for pid in alive
                 for name in (rundir.LAG, rundir.GAUGES)]  # fmt: skip
        while time.monotonic() < deadline:
            ends = [last_time(path) for path in files if path.exists()]
            if all(t is not None and t >= until for t in ends):
                return
            time.sleep(0.05)


def whole_lines_end(path: Path) -> int:
    """The offset just after the last newline of ``path`` (0 when it has none)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            back = min(size, 64 * 1024)
            f.seek(size - back)
            tail = f.read(back)
    except OSError:
        return 0
    return size - back + tail.rfind(b"\n") + 1 if b"\n" in tail else 0


def _read_lines(path: Path, start: int) -> bytes:
    """The whole lines of ``path`` from ``start`` on."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read()
    except OSError:
        return b""
    return data[: data.rfind(b"\n") + 1]


def _header(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.readline()


def last_time(csv: Path) -> float | None:
    """The ``t`` (first column) of the last whole line of a worker's lag.csv or gauges.csv
    (None: no row yet)."""
    end = whole_lines_end(csv)
    if end == 0:
        return None
    with open(csv, "rb") as f:
        start = max(0, end - 4096)  # a gauges row is a few hundred bytes
        f.seek(start)
        lines = f.read(end - start).splitlines()
    try:
        return float(lines[-1].split(b",")[0])
    except (IndexError, ValueError):
        return None  # only the header so far
