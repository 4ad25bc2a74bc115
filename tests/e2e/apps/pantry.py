"""Two small services that are not shop, each with its own mistakes, for the generic rules.

``app`` (pantry): a session that is never closed, a chatty audit log, an export that
raises.  ``depot``: one background task per supplier per restock, and a forecast that
waits on a slow upstream.  Nothing here talks to lagscope: the probe must see it all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

_folder = os.environ.get("LAGSCOPE_RUN_DIR") or tempfile.gettempdir()  # no mkdtemp at import
engine = create_async_engine(
    f"sqlite+aiosqlite:///{Path(_folder, 'pantry.sqlite3')}",
    pool_size=3, max_overflow=0, pool_timeout=1.0,
)  # fmt: skip
Sessions = async_sessionmaker(engine)
_open: list[AsyncSession] = []
audit = logging.getLogger("pantry.audit")
audit.setLevel(logging.DEBUG)
audit.addHandler(logging.StreamHandler(sys.stderr))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(text("create table if not exists items (id int, name text)"))
        await conn.execute(text("insert into items values (1, 'flour'), (2, 'rice')"))
    yield
    for session in _open:
        await session.close()
    await engine.dispose()


app = FastAPI(title="pantry", lifespan=lifespan)


@app.get("/items")
async def items() -> list[str]:
    session = Sessions()
    _open.append(session)  # never closed: its connection leaks
    rows = await session.execute(text("select name from items"))
    return [row[0] for row in rows]


@app.get("/audit")
async def audit_trail() -> dict[str, int]:
    for i in range(60):
        audit.debug("audit entry %d: %s", i, "x" * 80)
    return {"entries": 60}


@app.get("/export")
async def export() -> dict[str, str]:
    formats: dict[str, str] = {}
    return {"url": formats["csv"]}  # KeyError: a bare 500


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


depot = FastAPI(title="depot")
_tasks: set[asyncio.Task[None]] = set()


async def notify(supplier: int, manifest: bytes) -> None:
    await asyncio.sleep(60)  # the supplier's API never answers in time


@depot.get("/restock")
async def restock() -> dict[str, int]:
    for supplier in range(5):
        task = asyncio.create_task(notify(supplier, bytes(50_000)))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    return {"notified": 5}


@depot.get("/forecast")
async def forecast() -> dict[str, str]:
    await asyncio.sleep(1.5)  # the weather API, answering slowly, and no timeout
    return {"tomorrow": "rain"}


@depot.get("/ping")
async def depot_ping() -> dict[str, bool]:
    return {"ok": True}
