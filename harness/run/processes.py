"""Child processes that never outlive the harness: own session, parent-death signal, group kill."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 8  # of a server's log, shown under a start-up failure
LOG_LINE_CHARS = 200
# "RuntimeError: ...", "mypkg.errors.ConfigError: ...": the last line of a traceback.
_EXCEPTION_LINE = re.compile(
    r"^[A-Za-z_][\w.]*(Error|Exception|Exit|error)\b(: |$)"
)  # socket.gaierror


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    """A process group started by the harness, logging to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115  (closed in stop())
        self.log_start = self._log.tell()  # this process's lines start here (a retry appends)
        self.popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509  (called from the main thread)
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> int | None:
        return self.popen.poll()

    def log_text(self) -> str:
        """What this process wrote to its log ("" when it cannot be read)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_start)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_lines(self) -> list[str]:
        """The non-blank lines this process wrote to its log (cut to LOG_LINE_CHARS)."""
        text = self.log_text()
        return [line.rstrip()[:LOG_LINE_CHARS] for line in text.splitlines() if line.strip()]

    def last_log_line(self) -> str:
        """The last exception the log names (a traceback's last line), else its last line.

        A server that fails in its lifespan logs the traceback and then a line of its
        own ("Application startup failed. Exiting."); the exception is what to show.
        """
        meaningful = [line.strip() for line in self.log_lines()]
        exceptions = [line for line in meaningful if _EXCEPTION_LINE.match(line)]
        return (exceptions or meaningful or [""])[-1]

    def log_tail(self, n: int = LOG_TAIL_LINES) -> list[str]:
        return self.log_lines()[-n:]

    def pids(self) -> list[int]:
        """The process and its descendants, as they are now."""
        try:
            root = psutil.Process(self.popen.pid)
            return [root.pid, *(p.pid for p in root.children(recursive=True))]
        except psutil.Error:
            return []

    def listens_on(self, port: int) -> bool:
        """Whether this process (or a descendant) listens on ``port``: the server that
        answers there is this one, not another that took the port meanwhile."""
        for pid in self.pids():
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in conns):
                return True
        return False

    def stop(self, *, grace_s: float = 5.0) -> int | None:
        """SIGTERM the whole group, SIGKILL it after ``grace_s``; return the exit code."""
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while self.popen.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # Kill stragglers of the group too (workers whose master is already gone).
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=2.0)
        self._log.close()
        return self.popen.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)
