"""Per-worker files of the probe, appended as the run goes so nothing is lost on exit.

workers/<pid>/meta.json     who this worker is and how it was probed
workers/<pid>/lag.csv       t (unix s), lag_ms: one row per heartbeat
workers/<pid>/stalls.jsonl  one stall event per line (see docs/run-directory.md)

A write that fails (a full disk) never stops the probe, nor leaves half a line: the lines
are kept and appended whole with the next flush, once there is room again
(lagscope.appends).
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Any

from lagscope import rundir
from lagscope.appends import PendingLines


class Recorder:
    """Owns one worker's directory; every method is called from the watchdog thread."""

    def __init__(self, run_dir: str | os.PathLike[str], *, pid: int | None = None) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.dir = Path(run_dir) / rundir.WORKERS / str(self.pid)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lag = PendingLines(self.dir / rundir.LAG)
        if not self._lag.path.exists() or not self._lag.path.stat().st_size:
            self._lag.add(",".join(rundir.LAG_COLUMNS) + "\n")
        self._lag.flush()
        self._stalls = PendingLines(self.dir / rundir.STALLS)
        self._stalls.path.touch()

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.dir / (rundir.META + ".tmp")
        tmp.write_text(json.dumps({"pid": self.pid, **meta}, indent=2), encoding="utf-8")
        tmp.replace(self.dir / rundir.META)

    def flush_lag(self, samples: collections.deque[tuple[float, float]]) -> None:
        """Move every sample out of ``samples`` (filled by the loop thread) into lag.csv."""
        lines = []
        while True:
            try:
                t, lag_ms = samples.popleft()
            except IndexError:
                break
            lines.append(f"{t:.6f},{lag_ms:.3f}\n")
        self._lag.add("".join(lines))
        self._lag.flush()  # kept for the next flush when it does not fit

    def write_stall(self, event: dict[str, Any]) -> None:
        self._stalls.add(json.dumps(event) + "\n")
        self._stalls.flush()

    def close(self) -> None:
        """A last flush of both files (what still does not fit is lost with the worker)."""
        self._lag.flush()
        self._stalls.flush()
