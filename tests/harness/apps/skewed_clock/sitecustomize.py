"""A host whose wall clock is off: on PYTHONPATH, this replaces ``time.time`` of the process
before anything else is imported; the monotonic clocks stay as they are, as they would.

    TEST_CLOCK_SKEW_S     the wall clock is this far ahead (the load workers' clock offsets)
    TEST_CLOCK_SLEW       and gains this many seconds a second (NTP slewing it, a VM's host
                          correcting its guest) …
    TEST_CLOCK_STEP_S     … and is stepped this far …
    TEST_CLOCK_STEP_AT_S  … this long after TEST_CLOCK_ANCHOR, a ``time.monotonic()``
                          reading (one clock for every process of a test: the host's)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def clock_from_env(wall: Callable[[], float]) -> Callable[[], float] | None:
    """``wall`` as the environment moves it, or None when it does not."""
    skew = float(os.environ.get("TEST_CLOCK_SKEW_S", "0"))
    slew = float(os.environ.get("TEST_CLOCK_SLEW", "0"))
    step = float(os.environ.get("TEST_CLOCK_STEP_S", "0"))
    if not (skew or slew or step):
        return None
    anchor = float(os.environ.get("TEST_CLOCK_ANCHOR", "0"))
    step_at = float(os.environ.get("TEST_CLOCK_STEP_AT_S", "0"))
    monotonic = time.monotonic

    def moved() -> float:
        since = max(monotonic() - anchor, 0.0)
        return wall() + skew + slew * since + (step if since >= step_at else 0.0)

    return moved


_moved = clock_from_env(time.time)
if _moved is not None:
    time.time = _moved
