"""A CPU-bound service: each request hashes a password on the loop thread (~4 ms of CPU).

One worker uses at most one core, so on a 2-core machine a second worker should
sustain close to twice the rate.
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI

app = FastAPI(title="cpuapp")


@app.get("/login")
async def login() -> dict[str, str]:
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", b"salt", 12_000)
    return {"token": digest.hex()[:16]}
