"""The injector of one worker: applies the switched faults, follows the shared state, records.

It exists only when the harness enables it for the run (``LAGSCOPE_INJECT_TOKEN``) or
``instrument(app, inject_token=...)`` is called with a token.  Nothing is hooked while
nothing is injected: the HTTP clients' transports and SQLAlchemy are touched only while
a fault needs them, and put back when it is cleared, at the run's deadline, and when the
worker shuts down, so the app is left as it was.

Every change is a line in ``workers/<pid>/injected.jsonl`` (``on``, ``off`` with what the
fault did, ``crash``, ``capped``, ``expired``) and on stderr (the target's log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from lagscope.harness.probe.inject import blockers, database, outbound, state

from lagscope import defaults, rundir
from lagscope.appends import append_whole
from lagscope.injection import SIGNALS, Injection, encode_state

log = logging.getLogger("lagscope.inject")
_PAGE = os.sysconf("SC_PAGE_SIZE")
HTTP_KINDS = ("dependency_latency", "dependency_errors")
CRASH_AFTER_S = 0.2


def rss_mb() -> float:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


class Injector:
    """Applies exactly the faults of the latest switch in this worker (see module docstring)."""

    def __init__(
        self,
        *,
        token: str,
        state_file: Path,
        run_dir: Path,
        deadline: float | None = None,
        memory_cap_mb: float = defaults.MEMORY_CAP_MB,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token:
            raise ValueError("the injector needs a token: it is never reachable without one")
        self.token = token
        self.state_file = state_file
        self.run_dir = run_dir
        self.deadline = deadline
        self.memory_cap_mb = memory_cap_mb
        self._seed = seed
        self._clock = clock
        self.active: tuple[Injection, ...] = ()
        self._tasks: dict[Injection, asyncio.Task[None]] = {}
        self._retained: list[bytes] = []
        self._follower = state.Follower(state_file)
        self._follow_task: asyncio.Task[None] | None = None
        self._expired = False

    @property
    def record_dir(self) -> Path:
        """``workers/<pid>/`` of the worker it runs in (known once the worker serves)."""
        return self.run_dir / rundir.WORKERS / str(os.getpid())

    @property
    def held_mb(self) -> float:
        """What a ``memory_leak`` retains now (MB; RSS is the worker's whole memory)."""
        return sum(map(len, self._retained)) / 1e6

    @property
    def seed(self) -> int:
        return self._seed ^ os.getpid()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Join the current state, then follow the file (call on the worker's running loop)."""
        self.refresh()
        loop = asyncio.get_running_loop()
        self._follow_task = loop.create_task(self._follow(), name="lagscope-inject-follow")

    def stop(self) -> None:
        """Clear every injection and stop following: the app is as it was."""
        if self._follow_task is not None:
            self._follow_task.cancel()
            self._follow_task = None
        self.apply((), switch_id="", why="stopped")

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(state.POLL_S)
            if self.deadline is not None and self._clock() > self.deadline:
                if not self._expired:
                    self._expired = True
                    self._record("expired", None, detail={"deadline": self.deadline})
                    self.apply((), switch_id="", why="the run's deadline passed")
                return
            self.refresh()
            if outbound.STATE.rules:
                outbound.install()  # a client the app imported since

    def refresh(self) -> bool:
        """Apply the state file if it changed; return whether it did."""
        try:
            switch = self._follower.changed()
        except (OSError, ValueError) as exc:
            log.warning("ignoring the injector's state file %s: %s", self.state_file, exc)
            return False
        if switch is None:
            return False
        self.apply(switch.injections, switch_id=switch.id)
        return True

    def switch(self, injections: Sequence[Injection]) -> tuple[Injection, ...]:
        """Switch exactly ``injections`` on in every worker: here at once, elsewhere within
        ``state.POLL_S``.  Raise OSError when the state file cannot be written."""
        if self._expired:
            raise PermissionError("the run's deadline has passed: nothing can be injected")
        if tuple(dict.fromkeys(injections)) == self.active:
            return self.active  # a retried switch changes nothing (and crashes no one again)
        content = encode_state(injections)
        state.write(self.state_file, content)
        self._follower.wrote(content)
        self.apply(tuple(injections), switch_id=state.decode(content).id)
        return self.active

    # -- applying --------------------------------------------------------------------------

    def apply(
        self, injections: Sequence[Injection], *, switch_id: str, why: str | None = None
    ) -> None:
        """Make ``injections`` the active faults of this worker (no ``await`` inside)."""
        wanted = tuple(dict.fromkeys(injections))
        gone = [i for i in self.active if i not in wanted]
        new = [i for i in wanted if i not in self.active]
        counts = self._counts()
        for injection in gone:
            task = self._tasks.pop(injection, None)
            if task is not None:
                task.cancel()
            if injection.kind == "memory_leak" and not any(i.kind == "memory_leak" for i in wanted):
                self._retained.clear()
            self._record("off", injection, detail={**counts.get(injection, {}),
                                                    **({"why": why} if why else {})})  # fmt: skip
        self.active = wanted
        outbound.set_rules([i for i in wanted if i.kind in HTTP_KINDS], seed=self.seed)
        database.set_rules([i for i in wanted if i.kind == "db_latency"], seed=self.seed + 1)
        for injection in new:
            self._record("on", injection)
            self._start(injection, switch_id)
        if gone or new:
            print(f"lagscope injector in worker {os.getpid()}: now "
                  f"{[i.describe() for i in wanted] or 'nothing'}",
                  file=sys.stderr, flush=True)  # fmt: skip

    def _start(self, injection: Injection, switch_id: str) -> None:
        runners: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "loop_block": lambda: blockers.run_loop_block(injection),
            "cpu_burn": lambda: blockers.run_cpu_burn(injection),
            "memory_leak": lambda: blockers.run_memory_leak(
                injection, self._retained, cap_mb=self.memory_cap_mb, rss_mb=rss_mb,
                on_cap=lambda cap: self._record("capped", injection, detail={"cap_mb": cap}),
            ),
        }  # fmt: skip
        if injection.kind in runners:
            loop = asyncio.get_running_loop()
            name = f"lagscope-inject-{injection.kind}"
            self._tasks[injection] = loop.create_task(runners[injection.kind](), name=name)
        elif injection.kind == "worker_crash" and state.claim_crash(self.state_file, switch_id):
            # After the switch's answer is sent: a caller that saw no answer would retry.
            asyncio.get_running_loop().call_later(CRASH_AFTER_S, self._crash, injection)

    def _crash(self, injection: Injection) -> None:
        """Terminate this worker with the asked signal (the server decides what follows)."""
        name = str(injection.params.get("signal", "SIGKILL"))
        self._record("crash", injection, detail={"signal": name})
        print(f"lagscope injector: terminating worker {os.getpid()} with {name} (worker_crash)",
              file=sys.stderr, flush=True)  # fmt: skip
        os.kill(os.getpid(), SIGNALS.get(name, signal.SIGKILL))

    def _counts(self) -> dict[Injection, dict[str, int]]:
        rules: list[outbound.Rule | database.Rule] = [
            *outbound.STATE.rules, *database.STATE.rules,
        ]  # fmt: skip
        return {r.injection: {"matched": r.matched, "affected": r.affected} for r in rules}

    def describe(self) -> list[str]:
        return [i.describe() for i in self.active]

    # -- the record ------------------------------------------------------------------------

    def _record(
        self, action: str, injection: Injection | None, *, detail: dict[str, Any] | None = None
    ) -> None:
        row = {
            "t": round(time.time(), 3),
            "action": action,
            "kind": injection.kind if injection else None,
            "spec": injection.describe() if injection else None,
            "detail": detail or {},
        }
        with contextlib.suppress(OSError):  # a full disk loses the record, never the request
            self.record_dir.mkdir(parents=True, exist_ok=True)
            append_whole(self.record_dir / rundir.INJECTED, (json.dumps(row) + "\n").encode())
