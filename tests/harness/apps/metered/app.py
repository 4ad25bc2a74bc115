"""A new user's app: the README's metrics snippet, served by a plain uvicorn or gunicorn.

``GET /block`` sleeps on the loop (a seeded stall at a known line), ``GET /items/{id}``
is a templated route, ``GET /fail`` raises (a 500).
"""

from __future__ import annotations

import time

from fastapi import FastAPI

from lagscope import instrument

api = FastAPI(title="metered")


@api.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@api.get("/block")
async def block() -> dict[str, str]:
    time.sleep(0.08)  # noqa: ASYNC251  # SEEDED: blocks the loop (BLOCKS)
    return {"blocked": "80ms"}


@api.get("/fail")
async def fail() -> dict[str, str]:
    raise RuntimeError("seeded failure")


app = instrument(api, metrics_path="/metrics")
