"""An app that dies after its first load: the process exits (code 17) ``DYING_AFTER_S``
seconds (default 2.6) after its first request.

Its one endpoint hashes for a few ms of CPU, like ``sizing``'s ``GET /hash``, so that a
short step's P99 stands well above the load generator's jitter (the step stays valid).
"""

from __future__ import annotations

import hashlib
import os
import threading

from fastapi import FastAPI

app = FastAPI(title="dying")
_armed = threading.Event()


@app.get("/hash")
async def hash_password() -> dict[str, str]:
    if not _armed.is_set():
        _armed.set()
        after = float(os.environ.get("DYING_AFTER_S", "2.6"))
        threading.Timer(after, os._exit, args=(17,)).start()
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", b"salt", 15_000)
    return {"token": digest.hex()[:16]}


# ``dying.app:on_check``: the same endpoint, and the process exits (code 17) 50 ms after it
# answers ``GET /`` once loaded: right after a sweep's health check found it healthy, and
# before the next step can start on it.
on_check = FastAPI(title="dying on check")
_loaded = threading.Event()


@on_check.get("/hash")
async def hash_on_check() -> dict[str, str]:
    _loaded.set()
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", b"salt", 15_000)
    return {"token": digest.hex()[:16]}


@on_check.get("/", include_in_schema=False)
async def root() -> dict[str, bool]:
    if _loaded.is_set():
        threading.Timer(0.05, os._exit, args=(17,)).start()
    return {"ok": True}
