"""The service's monthly report, rendered synchronously."""

from __future__ import annotations

import time


def render() -> int:
    time.sleep(0.04)  # BLOCKS: code package
    return 12
