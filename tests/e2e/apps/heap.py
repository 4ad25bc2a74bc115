"""A service whose only stalls are full garbage collections of a large heap (tests/e2e).

At import it builds an index of a million small lists that lives as long as the process
(reference data, never freed).  Each request keeps a page of 2,500 small lists among the
last 40 (a short history, long-lived enough to reach the collector's oldest generation),
so every few dozen requests CPython runs a full collection, which walks the whole index:
tens of milliseconds on one core, with the GIL held.  The request's own work is a
fraction of a millisecond.  lagscope must put those stalls on the collector, not on the
line that happened to allocate.
"""

from __future__ import annotations

from collections import deque

from fastapi import FastAPI

INDEX = [[n] for n in range(1_000_000)]
_recent: deque[list[list[int]]] = deque(maxlen=40)

app = FastAPI(title="heap")


@app.get("/page")
async def page() -> dict[str, int]:
    _recent.append([[n] for n in range(2_500)])
    return {"pages": len(_recent), "index": len(INDEX)}
