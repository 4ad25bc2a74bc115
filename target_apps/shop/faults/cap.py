"""The safety cap of the growing faults: a seeded leak stops growing at a memory cap.

``LAGSCOPE_MEMORY_CAP_MB`` (the harness sets it from ``--memory-cap``, default 512) is the
resident memory of this worker past which ``unbounded_tasks`` and ``connection_leak``
stop leaking and behave like their fixed twins.  The probe records the same RSS in
``gauges.csv``, and the run's summary reports when a worker reached the cap.
"""

from __future__ import annotations

import logging
import os
import time

from lagscope import defaults, rundir

DEFAULT_CAP_MB = defaults.MEMORY_CAP_MB
_PAGE = os.sysconf("SC_PAGE_SIZE")
_CHECK_EVERY_S = 0.1
log = logging.getLogger("shop.safety")


def rss_mb() -> float:
    """This process's resident memory in MB (10^6 bytes), from /proc/self/statm."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


class GrowthCap:
    """Answers "may the leak grow?"; re-reads RSS at most every 100 ms."""

    def __init__(self, cap_mb: float | None = None) -> None:
        self.cap_mb = cap_mb or float(os.environ.get(rundir.ENV_MEMORY_CAP_MB) or DEFAULT_CAP_MB)
        self.hit = False
        self._checked = 0.0
        self._over = False

    def allow(self, fault: str) -> bool:
        now = time.monotonic()
        if now - self._checked >= _CHECK_EVERY_S:
            self._checked = now
            self._over = rss_mb() >= self.cap_mb
            if self._over and not self.hit:
                self.hit = True
                log.warning(
                    "memory cap of %.0f MB reached: fault %s stops growing", self.cap_mb, fault
                )
        return not self._over


CAP = GrowthCap()
