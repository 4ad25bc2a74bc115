"""A FastAPI service with three ways to block its event loop, and three ways not to.

The blocking endpoints are seeded faults (the plugin must fail the tests that call them,
naming these lines): a synchronous sleep, a CPU-bound password hash and a library's
synchronous network call, each inside ``async def``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import slowlib
from fastapi import FastAPI

app = FastAPI()


@app.get("/sleep")
async def sleepy() -> dict[str, str]:
    time.sleep(0.1)  # noqa: ASYNC251  seeded fault: blocks the loop for 100 ms
    return {"slept": "100ms"}


@app.post("/login")
async def login(password: str) -> dict[str, str]:
    # seeded fault: ~200 ms of PBKDF2 on the loop thread, well over the tests' threshold
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"salt", 500_000)
    return {"token": digest.hex()[:16]}


@app.get("/rates")
async def rates() -> dict[str, float]:
    return slowlib.fetch_rates()  # seeded fault: a blocking library call


@app.get("/pause")
async def pause() -> dict[str, str]:
    await asyncio.sleep(0.1)  # waits without blocking: the loop runs on
    return {"paused": "100ms"}


@app.get("/report")
def report() -> dict[str, str]:
    time.sleep(0.1)  # a plain def endpoint: FastAPI runs it in the threadpool
    return {"report": "ready"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
