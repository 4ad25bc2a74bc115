"""Fault ``threadpool_starvation``: blocking calls in plain ``def`` endpoints drain the threadpool.

FastAPI runs a plain ``def`` endpoint (and a plain ``def`` dependency) in anyio's
threadpool, which holds 40 threads by default.  A blocking call that waits a few
hundred milliseconds holds one of them for as long; with more than 40 such requests
in flight, every further one queues for a thread, and so does everything else that
needs the pool (sync dependencies, file responses, ``run_in_threadpool``).  Latency
climbs while the CPU idles and the event loop looks healthy.

The fix awaits an async client, so waiting costs no thread at all.  (If the call must
stay blocking, give it its own ``anyio.CapacityLimiter`` sized for the dependency,
so it cannot starve the rest of the service.)
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

_blocking_client: httpx.Client | None = None


def _client(base_url: str) -> httpx.Client:
    global _blocking_client
    if _blocking_client is None:
        _blocking_client = httpx.Client(
            base_url=base_url, timeout=10.0, limits=httpx.Limits(max_connections=200)
        )
    return _blocking_client


def stock_blocking(base_url: str, product_id: int) -> dict[str, Any]:
    # SEEDED FAULT: a blocking HTTP call holds one of the threadpool's 40 threads meanwhile.
    response = _client(base_url).get(f"/stock/{product_id}")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def stock_broken(base_url: str, product_id: int) -> dict[str, Any]:
    """What FastAPI does with a plain ``def`` endpoint: run it in the threadpool."""
    return await run_in_threadpool(stock_blocking, base_url, product_id)


async def stock_fixed(client: httpx.AsyncClient, product_id: int) -> dict[str, Any]:
    response = await client.get(f"/stock/{product_id}")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
