"""Pin a benchmark's processes to cores: the target server on one, everything else on another.

On a 2-core machine the target and the load generator otherwise take turns on both cores,
so a cost on either side moves the other's throughput, and the scheduler's placement adds
±15 % from one run to the next.  Pinned, the target's core does nothing but serve: at
saturation its throughput is that core's capacity over the target's CPU per request,
which is what the probe's and the injector's budgets are about; and the generator's core
does nothing but generate, which is what the generator's budget is about.

A ``Pinner`` watches a process tree (a ``lagscope run``, or a benchmark's own children)
from a thread and moves every thread of every process in it: a process whose command line
names uvicorn or gunicorn (but not the built-in app's downstream), and all its
descendants, to the target's core; the others to the generator's.  It polls every 50 ms
until the tree has not changed for 2 s, then every second (a Locust or uvicorn start-up
takes ~1 s, before any load is sent).

Pinning needs two cores; with fewer, ``Pinner.possible()`` is false and benchmarks run
unpinned (and say so).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import psutil

TARGET_CPU = 0
OTHER_CPU = 1
SERVERS = (b"uvicorn", b"gunicorn")
NOT_TARGETS = (b"target_apps.downstream",)  # the built-in app's downstream: not measured


def _threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _pin(pid: int, cpu: int) -> None:
    for tid in _threads(pid):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            os.sched_setaffinity(tid, {cpu})


def _is_server(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if any(other in part for part in argv for other in NOT_TARGETS):
        return False
    return any(name in part for part in argv[:4] for name in SERVERS)


class Pinner:
    """Keep the processes under ``roots`` pinned while the ``with`` block runs."""

    def __init__(self, roots: Iterable[int]) -> None:
        self.roots = list(roots)
        self._seen: dict[int, tuple[int, int]] = {}  # pid -> (its root, its core)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pinner", daemon=True)

    @staticmethod
    def possible() -> bool:
        """CPUs 0 and 1 exist and this process may use them: it widens its own affinity to
        them when whatever started it had narrowed it to one CPU."""
        wanted = {TARGET_CPU, OTHER_CPU}
        if wanted <= os.sched_getaffinity(0):
            return True
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, os.sched_getaffinity(0) | wanted)
        return wanted <= os.sched_getaffinity(0)

    @staticmethod
    def pin_self() -> None:
        """Put the benchmark's own process (and the threads it starts later) on the
        generator's core.  Ctrl-C then stops the benchmark (and the runs it started)
        even when it was started in the background, where the shell ignores SIGINT."""
        _pin(os.getpid(), OTHER_CPU)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> Pinner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def targets_under(self, root: int) -> set[int]:
        """The target processes seen so far in ``root``'s tree."""
        seen = list(self._seen.items())  # one copy: the watching thread adds to it
        return {pid for pid, (r, cpu) in seen if r == root and cpu == TARGET_CPU}

    def _walk(self) -> dict[int, tuple[int, int]]:
        """Every process in the trees: its root and the core it belongs on (one scan of
        the process table)."""
        children: dict[int, list[int]] = {}
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"], []).append(proc.pid)
        placement: dict[int, tuple[int, int]] = {}
        stack = [(root, root, OTHER_CPU) for root in self.roots]
        while stack:
            pid, root, cpu = stack.pop()
            if cpu != TARGET_CPU and _is_server(pid):
                cpu = TARGET_CPU
            placement[pid] = (root, cpu)
            stack.extend((child, root, cpu) for child in children.get(pid, ()))
        return placement

    def _watch(self) -> None:
        known: dict[int, tuple[int, frozenset[int]]] = {}
        stable_since = 0.0
        clock = 0.0
        while not self._stop.is_set():
            changed = False
            for pid, (root, cpu) in self._walk().items():
                threads = frozenset(_threads(pid))
                if known.get(pid) != (cpu, threads):
                    _pin(pid, cpu)
                    known[pid] = (cpu, threads)
                    changed = True
                self._seen[pid] = (root, cpu)
            if changed:
                stable_since = clock
            interval = 0.05 if clock - stable_since < 2.0 else 1.0
            self._stop.wait(interval)
            clock += interval


def describe() -> str:
    """One line for a benchmark's header."""
    if not Pinner.possible():
        return f"unpinned: this process may use CPUs {sorted(os.sched_getaffinity(0))}"
    model = Path("/proc/cpuinfo").read_text().split("model name")[1].split("\n")[0]
    return (
        f"pinned: target server on CPU {TARGET_CPU}, everything else on CPU {OTHER_CPU} "
        f"({model.partition(':')[2].strip()}, Python {sys.version.split()[0]})"
    )


def run(argv: list[str], *, pin: bool, also: Iterable[int] = (), **popen: object) -> int:
    """Run ``argv`` to its end (pinned when ``pin``, together with the processes ``also``);
    raise ``CalledProcessError`` when it fails, as ``subprocess.run(check=True)`` does."""
    import subprocess

    proc = subprocess.Popen(argv, **popen)  # type: ignore[call-overload]
    if pin:
        with Pinner([proc.pid, *also]):
            code = proc.wait()
    else:
        code = proc.wait()
    if code:
        raise subprocess.CalledProcessError(code, argv)
    return code
