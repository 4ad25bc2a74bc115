"""Fault ``slow_downstream``: a downstream call without a timeout while the downstream degrades.

The payments API normally answers in tens of milliseconds.  When it degrades (a slow
database on its side, a GC pause, a network problem) and the shop waits without a
timeout, every order waits as long as payments does.  Requests pile up, each holding
a socket, a DB session and the client's patience; clients retry and the pile grows.
The shop's own CPU, event loop and pools look fine: the time is spent outside.

The fix bounds the wait and fails fast: a timeout well under the shop's own latency
objective, and a circuit breaker that, after a few failures in a row, answers ``503``
at once for a cool-down period instead of queueing more calls behind a dependency
that is known to be down.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

TIMEOUT_S = 1.0
TRIP_AFTER = 5  # consecutive failures
COOL_DOWN_S = 2.0


class DownstreamUnavailable(Exception):
    """Payments did not answer in time, or the breaker is open: answer 503."""


class CircuitBreaker:
    def __init__(self) -> None:
        self.failures = 0
        self.open_until = 0.0

    def check(self) -> None:
        if time.monotonic() < self.open_until:
            raise DownstreamUnavailable("payments circuit open")

    def record(self, ok: bool) -> None:
        self.failures = 0 if ok else self.failures + 1
        if self.failures >= TRIP_AFTER:
            self.open_until = time.monotonic() + COOL_DOWN_S
            self.failures = 0


async def charge_broken(
    client: httpx.AsyncClient, order_id: str, amount_cents: int
) -> dict[str, Any]:
    body = {"order_id": order_id, "amount_cents": amount_cents}
    # SEEDED FAULT: timeout=None waits as long as the payments API takes.
    response = await client.post("/charge", json=body, timeout=None)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def charge_fixed(
    client: httpx.AsyncClient, breaker: CircuitBreaker, order_id: str, amount_cents: int
) -> dict[str, Any]:
    breaker.check()
    body = {"order_id": order_id, "amount_cents": amount_cents}
    try:
        response = await client.post("/charge", json=body, timeout=TIMEOUT_S)
        response.raise_for_status()
    except (httpx.TimeoutException, httpx.HTTPStatusError, httpx.TransportError) as exc:
        breaker.record(ok=False)
        raise DownstreamUnavailable(f"payments failed: {type(exc).__name__}") from exc
    breaker.record(ok=True)
    result: dict[str, Any] = response.json()
    return result
