"""A host whose wall clock is off: on PYTHONPATH, this shifts ``time.time`` of the process
by ``TEST_CLOCK_SKEW_S`` seconds before anything else is imported (test of the load
workers' clock offsets; the monotonic clocks stay as they are, as they would)."""

from __future__ import annotations

import os
import time

_skew = float(os.environ.get("TEST_CLOCK_SKEW_S", "0"))
if _skew:
    _wall = time.time

    def _skewed() -> float:
        return _wall() + _skew

    time.time = _skewed
