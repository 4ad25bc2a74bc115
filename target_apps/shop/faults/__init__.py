"""The catalogue of seeded faults of ``shop``, and which ones are switched on.

Each fault lives in its own module with the broken and the fixed code side by side.
``SHOP_FAULTS`` (comma-separated names; the harness sets it from ``--fault``) switches
faults on at start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    finding: str  # the diagnosis kind that recognises it


CATALOGUE: dict[str, Fault] = {
    f.name: f
    for f in [
        Fault(
            "blocking_io",
            "POST /orders charges the payment with a synchronous HTTP client inside async def",
            "event_loop_blocking",
        ),
    ]
}

enabled: set[str] = {
    name.strip() for name in os.environ.get("SHOP_FAULTS", "").split(",") if name.strip()
}


def is_on(name: str) -> bool:
    return name in enabled
