"""The load generator's processes while the load runs: which died before its end, and when.

Locust runs as one process, or (``--load-procs N``) as a master that forks N workers. A
worker that dies is reaped by the master at once (gevent watches its children) and the
rest of the test goes on, so the harness notices only by the worker's absence: a process
of the load's tree gone before the load's planned end died (killed, or crashed).  The
master itself is the harness's child: its exit code says how it ended.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from lagscope.harness.run.processes import Child


@dataclass(frozen=True)
class Death:
    """A load-generator process that ended before the load did."""

    pid: int
    role: str  # "locust" (the process the harness started) or "locust worker"
    code: int | None  # exit code (negative: the signal); None when another process reaped it

    def how(self) -> str:
        if self.code is None:
            return "died"
        if self.code < 0:
            try:
                return f"was killed by {signal.Signals(-self.code).name}"
            except ValueError:
                return f"was killed by signal {-self.code}"
        return f"exited with code {self.code}"

    def to_json(self) -> dict[str, object]:
        return {"pid": self.pid, "role": self.role, "code": self.code, "how": self.how()}


class LoadWatch:
    """Follows the processes of ``load`` until ``ends_at`` (on ``clock``)."""

    def __init__(
        self, load: Child, *, ends_at: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.load = load
        self.ends_at = ends_at
        self._clock = clock
        self._seen: set[int] = set()
        self._reported: set[int] = set()

    def poll(self) -> list[Death]:
        """Processes of the load found gone since the last poll: the master when it exited
        with an error or before the load's end, a worker when it went before the end."""
        code = self.load.exited()
        early = self._clock() < self.ends_at
        alive = set(self.load.pids()) if code is None else set()
        if code is None and not alive:
            return []  # the master ended between the two reads: the next poll sees its code
        found = []
        if code is not None and (code != 0 or early):
            found.append(Death(self.load.pid, "locust", code))
        if code is None and early:
            found += [Death(pid, "locust worker", None) for pid in sorted(self._seen - alive)]
        self._seen = alive
        new = [d for d in found if d.pid not in self._reported]
        self._reported |= {d.pid for d in new}
        return new
