"""How a stall the injector caused is told apart from the app's: by the frames on its stack.

The functions the injector blocks in are named ``injected_<kind>`` and live in this
package.  A stack that holds one was stalled (or lengthened) by that fault.  For the
faults that block the loop themselves (``BLAMED_ON_INJECTOR``) the stall is labelled
``<injected KIND>``, never blamed on the user's code or the frame that ran the task; for
the others (a sync client's call or a sync engine's statement held on the loop thread)
the user's line still blocked the loop, and the stall only notes ``injected``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PREFIX = "injected_"
INJECT_DIR = str(Path(__file__).resolve().parent) + os.sep
BLAMED_ON_INJECTOR = frozenset({"loop_block", "cpu_burn", "memory_leak"})


def injected_kind(stack: Iterable[tuple[str, int, str]]) -> str | None:
    """The fault kind whose ``injected_<kind>`` function is on ``stack``, innermost first."""
    for filename, _, function in reversed(tuple(stack)):
        if function.startswith(PREFIX) and filename.startswith(INJECT_DIR):
            return function[len(PREFIX) :]
    return None


def location(kind: str) -> str:
    """The location a stall caused by the injector is reported at."""
    return f"<injected {kind}>"
