"""Fault ``blocking_io``: a synchronous HTTP call inside ``async def``.

An ``async def`` endpoint runs on the event loop thread.  ``urllib.request.urlopen``
does not yield to the loop: it holds the thread until the payments service answers.
For those milliseconds the worker serves nobody else; every request queued behind
it waits, so P99 grows with the downstream's latency times the concurrency, and
health checks time out under load although CPU looks idle.

The fix awaits an async client (``httpx.AsyncClient``) shared by the app, so the loop
serves other requests while this one waits.  (If a library only offers a blocking
API, ``await starlette.concurrency.run_in_threadpool(fn, ...)`` moves it off the loop.)
The shop's fixed path is ``slow_downstream.charge_fixed``: this, plus a timeout and a
circuit breaker.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import httpx


async def charge_broken(base_url: str, order_id: str, amount_cents: int) -> dict[str, Any]:
    body = json.dumps({"order_id": order_id, "amount_cents": amount_cents}).encode()
    request = urllib.request.Request(
        f"{base_url}/charge", data=body, headers={"content-type": "application/json"}
    )
    # SEEDED FAULT: urlopen blocks the event loop until the downstream answers.
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: ASYNC210
        result: dict[str, Any] = json.loads(response.read())
    return result


async def charge_fixed(
    client: httpx.AsyncClient, order_id: str, amount_cents: int
) -> dict[str, Any]:
    response = await client.post(
        "/charge", json={"order_id": order_id, "amount_cents": amount_cents}
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
