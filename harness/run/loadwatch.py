"""The load generator's processes while the load runs: which died before its end, and when.

Locust runs as one process, or (``--load-procs N``) as a master that forks N workers. A
worker that dies is reaped by the master at once (gevent watches its children) and the
rest of the test goes on, so the harness notices only by the worker's absence.  At the
load's normal end the workers go first and the master follows within a second or two; so
a worker counts as dead when the master is still running ``GRACE_S`` after it went.  The
master itself is the harness's child: an exit code other than 0 says how it died.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from lagscope.harness.run.processes import Child

GRACE_S = 5.0  # a worker gone this long while its master runs on died
SCAN_EVERY_S = 0.5  # listing the load's process tree reads all of /proc (~2 ms)


@dataclass(frozen=True)
class Death:
    """A load-generator process that ended before the load did."""

    pid: int
    role: str  # "locust" (the process the harness started) or "locust worker"
    code: int | None  # exit code (negative: the signal); None when another process reaped it
    at: float  # when it was found gone (unix s)

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
        return {"pid": self.pid, "role": self.role, "code": self.code, "how": self.how(),
                "at": self.at}  # fmt: skip


class LoadWatch:
    """Follows the processes of ``load`` while it runs."""

    def __init__(
        self,
        load: Child,
        *,
        grace_s: float = GRACE_S,
        scan_every_s: float = SCAN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.load = load
        self.grace_s = grace_s
        self.scan_every_s = scan_every_s
        self._scanned = -float("inf")
        self._clock = clock
        self._wall = wall
        self._seen: set[int] = set()
        self._gone: dict[int, tuple[float, float]] = {}  # pid -> when found gone (clock, wall)
        self._reported: set[int] = set()

    def poll(self) -> list[Death]:
        """Deaths found since the last poll: the master's when it exited with an error, a
        worker's once it has been gone ``grace_s`` while the master ran on."""
        code = self.load.exited()
        if code is not None:  # workers that went with the master were its shutdown
            if code == 0 or self.load.pid in self._reported:
                return []
            self._reported.add(self.load.pid)
            return [Death(self.load.pid, "locust", code, self._wall())]
        now = self._clock()
        if now - self._scanned < self.scan_every_s:
            return []
        self._scanned = now
        alive = set(self.load.pids())
        if not alive:
            return []  # the master ended between the two reads: the next poll sees its code
        for pid in self._seen - alive:
            self._gone.setdefault(pid, (now, self._wall()))
        self._seen = alive
        deaths = [
            Death(pid, "locust worker", None, wall)
            for pid, (went, wall) in sorted(self._gone.items())
            if now - went >= self.grace_s and pid not in self._reported
        ]
        self._reported |= {d.pid for d in deaths}
        return deaths
