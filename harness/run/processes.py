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

_PR_SET_PDEATHSIG = 1
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

    def last_log_line(self) -> str:
        """The last exception the log names (a traceback's last line), else its last line.

        A server that fails in its lifespan logs the traceback and then a line of its
        own ("Application startup failed. Exiting."); the exception is what to show.
        """
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        meaningful = [line.strip() for line in lines if line.strip()]
        exceptions = [line for line in meaningful if _EXCEPTION_LINE.match(line)]
        return (exceptions or meaningful or [""])[-1]

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
