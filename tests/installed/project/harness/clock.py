"""The service's own clock helper."""

from __future__ import annotations

import time


def started() -> str:
    return time.strftime("%H:%M")
