"""A stand-in for a third-party library with a blocking API."""

from __future__ import annotations

import time


def fetch_rates() -> dict[str, float]:
    time.sleep(0.04)  # a library's synchronous network call
    return {"EUR": 1.0}
