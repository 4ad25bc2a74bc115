"""The load generator's processes are watched: a death before the load's end is reported,
which process and how; the normal end is not a death."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from lagscope.harness.run.loadwatch import LoadWatch
from lagscope.harness.run.processes import Child

# A stand-in for Locust with --processes: a master that forks two workers and reaps them.
FORKING = """
import os, signal, sys, time
signal.signal(signal.SIGCHLD, lambda *_: os.waitpid(-1, os.WNOHANG))
kids = []
def quit(*_):
    os._exit(0)
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
print(*kids, flush=True)
signal.signal(signal.SIGTERM, quit)  # as Locust's master, which ends with exit code 0
time.sleep(60)
"""


def start(tmp_path: Path, code: str) -> Child:
    return Child("load", [sys.executable, "-c", code], env=dict(os.environ),
                 log_path=tmp_path / "load.log")  # fmt: skip


def workers(child: Child) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        words = child.log_path.read_text().split()
        if len(words) == 2:
            return [int(w) for w in words]
        time.sleep(0.05)
    raise AssertionError("the workers did not start")


def test_a_worker_killed_mid_load_is_reported_once(tmp_path: Path) -> None:
    child = start(tmp_path, FORKING)
    try:
        first, second = workers(child)
        now = [0.0]
        watch = LoadWatch(child, grace_s=5.0, scan_every_s=0.0, clock=lambda: now[0])
        assert watch.poll() == []
        killed_at = time.time()
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while first in child.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watch.poll() == []  # gone, but the load may be ending: wait and see
        now[0] = 5.0
        (death,) = watch.poll()
        assert (death.pid, death.role, death.how()) == (first, "locust worker", "died")
        assert killed_at <= death.at < killed_at + 5  # when it was found gone
        assert watch.poll() == []
    finally:
        child.stop()


def test_the_master_killed_is_reported_with_its_signal(tmp_path: Path) -> None:
    child = start(tmp_path, "import time; time.sleep(60)")
    try:
        watch = LoadWatch(child)
        os.kill(child.pid, signal.SIGKILL)
        child.popen.wait(timeout=5)
        (death,) = watch.poll()
        assert (death.pid, death.role, death.code) == (child.pid, "locust", -9)
        assert death.to_json()["how"] == "was killed by SIGKILL"
        assert watch.poll() == []
    finally:
        child.stop()


def test_workers_that_go_with_their_master_are_its_shutdown(tmp_path: Path) -> None:
    child = start(tmp_path, FORKING)
    try:
        first, second = workers(child)
        now = [0.0]
        watch = LoadWatch(child, grace_s=5.0, scan_every_s=0.0, clock=lambda: now[0])
        watch.poll()
        os.kill(first, signal.SIGKILL)  # the first worker quits as the load ends
        time.sleep(0.3)
        watch.poll()
        os.kill(second, signal.SIGKILL)
        os.kill(child.pid, signal.SIGTERM)  # then the master, with exit code 0
        assert child.popen.wait(timeout=5) == 0
        now[0] = 10.0
        assert watch.poll() == []
    finally:
        child.stop()
