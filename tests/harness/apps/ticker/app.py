"""The coordinated-omission oracle: a loop that stalls for exactly 100 ms once a second.

A background task wakes on a 1 s grid and then blocks the event loop with
``time.sleep(0.1)``. Every request arriving during a stall waits until it ends, so
10 % of requests arriving at a steady rate wait uniformly 0..100 ms: the latency
real clients see has P95 ≈ 50 ms and P99 ≈ 90 ms (plus service time). ``calm`` is
the same app without the stalls; ``hanging`` answers only after 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI

STALL_S = 0.1
PERIOD_S = 1.0


async def _stall_every_second() -> None:
    start = time.monotonic()
    beat = 0
    while True:
        beat += 1
        await asyncio.sleep(max(0.0, start + beat * PERIOD_S - time.monotonic()))
        time.sleep(STALL_S)  # noqa: ASYNC251  (seeded: blocks the loop on purpose)


@contextlib.asynccontextmanager
async def _stalling(app: FastAPI) -> AsyncIterator[None]:
    ticker = asyncio.get_running_loop().create_task(_stall_every_second())
    yield
    ticker.cancel()


app = FastAPI(title="ticker", lifespan=_stalling)
calm = FastAPI(title="calm")


@app.get("/ping")
@calm.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


hanging = FastAPI(title="hanging")


@hanging.get("/ping")
async def slow_ping() -> dict[str, bool]:
    await asyncio.sleep(5.0)
    return {"ok": True}
