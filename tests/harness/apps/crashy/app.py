"""An app that dies under load: its process exits two seconds after the first request."""

from __future__ import annotations

import os
import threading

from fastapi import FastAPI

app = FastAPI(title="crashy")
_armed = threading.Event()


def _die_later() -> None:
    threading.Timer(2.0, os._exit, args=(17,)).start()


@app.get("/work")
async def work() -> dict[str, str]:
    if not _armed.is_set():
        _armed.set()
        _die_later()
    return {"ok": "yes"}
