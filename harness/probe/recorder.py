"""Per-worker files of the probe, appended as the run goes so nothing is lost on exit.

workers/<pid>/meta.json     who this worker is and how it was probed
workers/<pid>/lag.csv       t (unix s), lag_ms: one row per heartbeat
workers/<pid>/stalls.jsonl  one stall event per line (see docs/run-directory.md)

A write that fails (a full disk) never stops the probe: the file object keeps what it
could not write and writes it with the next flush, once there is room again.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from lagscope import rundir


class Recorder:
    """Owns one worker's directory; every method is called from the watchdog thread."""

    def __init__(self, run_dir: str | os.PathLike[str], *, pid: int | None = None) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.dir = Path(run_dir) / rundir.WORKERS / str(self.pid)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lag = open(self.dir / rundir.LAG, "a", buffering=1 << 16, encoding="utf-8")  # noqa: SIM115
        if self._lag.tell() == 0:
            self._lag.write(",".join(rundir.LAG_COLUMNS) + "\n")
        self._stalls = open(self.dir / rundir.STALLS, "a", encoding="utf-8")  # noqa: SIM115

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
        if lines:
            with contextlib.suppress(OSError):  # kept in the buffer for the next flush
                self._lag.write("".join(lines))
                self._lag.flush()

    def write_stall(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # kept in the buffer for the next flush
            self._stalls.write(json.dumps(event) + "\n")
            self._stalls.flush()

    def close(self) -> None:
        for file in (self._lag, self._stalls):
            with contextlib.suppress(OSError):  # still no room: what is left is lost
                file.close()
