"""A new user's app: the README's metrics snippet, served by a plain uvicorn or gunicorn.

``GET /block`` sleeps on the loop (a seeded stall at a known line), ``GET /items/{id}``
is a templated route, ``GET /fail`` raises (a 500), ``GET /db`` queries SQLite through
a bounded SQLAlchemy pool.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lagscope import instrument

folder = os.environ.get("METERED_DB_DIR") or tempfile.mkdtemp(prefix="metered-")
engine = create_async_engine(f"sqlite+aiosqlite:///{Path(folder, 'metered.sqlite3')}",
                             pool_size=2, max_overflow=1)  # fmt: skip
log = logging.getLogger("metered")
api = FastAPI(title="metered")


@api.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    log.warning("item %d", item_id)
    return {"id": item_id}


@api.get("/block")
async def block() -> dict[str, str]:
    time.sleep(0.08)  # noqa: ASYNC251  # SEEDED: blocks the loop (BLOCKS)
    return {"blocked": "80ms"}


@api.get("/fail")
async def fail() -> dict[str, str]:
    raise RuntimeError("seeded failure")


@api.get("/db")
async def db() -> dict[str, int]:
    async with engine.connect() as conn:
        value = (await conn.execute(text("select 1"))).scalar_one()
    return {"value": int(value)}


app = instrument(api, metrics_path="/metrics")
