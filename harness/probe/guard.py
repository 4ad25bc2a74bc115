"""Keeps a target worker from outliving its run: a deadline and a check on the harness.

The harness may be killed outright (SIGKILL, OOM); then nobody stops the servers it
started.  Each worker therefore stops itself when the run's deadline has passed or
when the harness process is gone.
"""

from __future__ import annotations

import os
import signal
import threading
import time

GRACE_S = 5.0


class Guard(threading.Thread):
    def __init__(self, *, deadline: float | None, harness_pid: int | None) -> None:
        super().__init__(name="lagscope-guard", daemon=True)
        self.deadline = deadline
        self.harness_pid = harness_pid

    def _harness_gone(self) -> bool:
        if self.harness_pid is None:
            return False
        try:
            os.kill(self.harness_pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def run(self) -> None:
        while True:
            time.sleep(0.5)
            late = self.deadline is not None and time.time() > self.deadline
            if late or self._harness_gone():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(GRACE_S)
                os._exit(3)
