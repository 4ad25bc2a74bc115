"""A real downstream for ``shop``: payments and stock APIs whose latency and error rate are set.

The harness starts it on loopback before the target.  ``DOWNSTREAM_LATENCY_MS`` and
``DOWNSTREAM_ERROR_RATE`` set its behaviour at start; ``PUT /_config`` changes them
while a run goes (game days degrade the dependency this way).  ``DOWNSTREAM_CONCURRENCY``
(default 0: unlimited) makes payments serve at most that many charges at once, the
others queueing, like a rate-limited provider: a capacity every shop worker shares.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from lagscope import rundir


class Config(BaseModel):
    latency_ms: float = float(os.environ.get("DOWNSTREAM_LATENCY_MS", "50"))
    error_rate: float = float(os.environ.get("DOWNSTREAM_ERROR_RATE", "0"))
    stock_latency_ms: float = float(os.environ.get("DOWNSTREAM_STOCK_LATENCY_MS", "100"))


class Charge(BaseModel):
    order_id: str
    amount_cents: int


app = FastAPI(title="payments (lagscope downstream)")
config = Config()
_random = random.Random(int(os.environ.get(rundir.ENV_SEED, "0")))
_concurrency = int(os.environ.get("DOWNSTREAM_CONCURRENCY", "0"))
_slots = asyncio.Semaphore(_concurrency) if _concurrency > 0 else None


async def _serve_charge() -> None:
    if _slots is None:
        await asyncio.sleep(config.latency_ms / 1000.0)
        return
    async with _slots:
        await asyncio.sleep(config.latency_ms / 1000.0)


@app.post("/charge")
async def charge(body: Charge) -> dict[str, str]:
    await _serve_charge()
    if _random.random() < config.error_rate:
        raise HTTPException(status_code=503, detail="payments temporarily unavailable")
    return {"status": "approved", "charge_id": uuid.uuid4().hex, "order_id": body.order_id}


@app.get("/stock/{product_id}")
async def stock(product_id: int) -> dict[str, int]:
    """The warehouse: how many of a product are in stock (slower than payments)."""
    await asyncio.sleep(config.stock_latency_ms / 1000.0)
    return {"product_id": product_id, "in_stock": (product_id * 7919) % 50}


@app.get("/_config")
async def get_config() -> Config:
    return config


@app.put("/_config")
async def put_config(new: Config) -> Config:
    config.latency_ms = new.latency_ms
    config.error_rate = new.error_rate
    config.stock_latency_ms = new.stock_latency_ms
    return config
