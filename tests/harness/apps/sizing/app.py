"""A service to size: one CPU-bound endpoint and one that waits on a shared upstream.

- ``GET /hash`` hashes a password on the loop thread (~6 ms of CPU here, a realistic
  password-hash cost): one worker uses at most one core, so a second worker can use
  the second core.
- ``GET /pay`` awaits ``SIZING_UPSTREAM_URL``'s ``/charge`` (lagscope's downstream, run
  with ``DOWNSTREAM_CONCURRENCY``): every worker shares the upstream's capacity.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ.get("SIZING_UPSTREAM_URL", "http://127.0.0.1:9")
    async with httpx.AsyncClient(base_url=url, timeout=5.0) as client:
        app.state.upstream = client
        yield


app = FastAPI(title="sizing", lifespan=lifespan)


@app.get("/hash")
async def hash_password() -> dict[str, str]:
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", b"salt", 15_000)
    return {"token": digest.hex()[:16]}


@app.get("/pay")
async def pay(request: Request) -> dict[str, str]:
    response = await request.app.state.upstream.post(
        "/charge", json={"order_id": "o-1", "amount_cents": 100}
    )
    response.raise_for_status()
    return {"charge": response.json()["charge_id"]}
