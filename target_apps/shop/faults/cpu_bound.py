"""Fault ``cpu_bound``: password hashing on the event loop thread.

PBKDF2 with a realistic work factor takes tens of milliseconds of pure CPU, on
purpose: that is what makes stolen hashes expensive to crack.  Called directly in an
``async def`` endpoint it runs on the event loop thread, so for each login the whole
worker stops serving: every other request (and the health check) waits behind it.
Unlike blocking I/O, the worker's CPU is busy while this happens, and adding
concurrency makes it worse, not better.

The fix moves the hash off the loop.  ``hashlib.pbkdf2_hmac`` releases the GIL while
it computes, so a thread is enough (``await run_in_threadpool(...)``); pure-Python CPU
work needs a process pool (``loop.run_in_executor(ProcessPoolExecutor(), ...)``).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.concurrency import run_in_threadpool

ITERATIONS = 200_000  # ~35 ms on one core of a laptop
SALT = b"lagscope-shop-salt"


def hash_password(password: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), SALT, ITERATIONS)


async def verify_broken(password: str, stored: bytes) -> bool:
    # SEEDED FAULT: tens of ms of CPU on the event loop thread, once per login.
    digest = hash_password(password)
    return hmac.compare_digest(digest, stored)


async def verify_fixed(password: str, stored: bytes) -> bool:
    digest = await run_in_threadpool(hash_password, password)
    return hmac.compare_digest(digest, stored)
