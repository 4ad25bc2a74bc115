"""An app written by "someone else": blocking hidden in many places, two innocent handlers.

Each blocking line ends with a ``# BLOCKS:`` marker the test uses to find its number.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import urllib.request
from collections.abc import Awaitable, Callable

import slowlib  # on PYTHONPATH, outside the app root: a "third-party" library
from fastapi import Depends, FastAPI, Request, Response

from blocky import helpers, upstream

UPSTREAM = upstream.start()
app = FastAPI(title="blocky")


async def current_tenant() -> str:
    time.sleep(0.03)  # noqa: ASYNC251  # BLOCKS: dependency
    return "acme"


@app.middleware("http")
async def audit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    if request.url.path == "/audited":
        time.sleep(0.03)  # noqa: ASYNC251  # BLOCKS: middleware
    return await call_next(request)


@app.get("/with-dependency")
async def with_dependency(tenant: str = Depends(current_tenant)) -> dict[str, str]:
    return {"tenant": tenant}


@app.get("/audited")
async def audited() -> dict[str, str]:
    return {"ok": "yes"}


@app.get("/invoice")
async def invoice() -> dict[str, str]:
    return {"invoice": helpers.render_invoice()}


@app.get("/hash")
async def hash_password() -> dict[str, str]:
    # ~50 ms on this machine: clearly over the 20 ms threshold (60,000 rounds took 15 ms,
    # under it, and were only caught when a busy machine stretched them).
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", b"salt", 250_000)  # BLOCKS: cpu hash
    return {"digest": digest.hex()[:8]}


@app.get("/urllib")
async def call_upstream() -> dict[str, int]:
    with urllib.request.urlopen(UPSTREAM, timeout=5) as response:  # noqa: ASYNC210  # BLOCKS: urllib
        return {"bytes": len(response.read())}


@app.get("/rates")
async def rates() -> dict[str, float]:
    return slowlib.fetch_rates()  # BLOCKS: library


@app.get("/sleepy")
async def sleepy() -> dict[str, str]:
    await asyncio.sleep(0.03)  # innocent: awaits
    return {"ok": "yes"}


@app.get("/threaded")
def threaded() -> dict[str, str]:
    time.sleep(0.03)  # innocent: a sync def endpoint runs in the threadpool
    return {"ok": "yes"}
