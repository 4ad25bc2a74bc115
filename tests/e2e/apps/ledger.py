"""A small service that is not shop and has no admin endpoint: the injector's test app.

``GET /balance`` and ``GET /convert`` call a rates service (``LEDGER_RATES_URL``,
``tests/e2e/apps/ledger_rates.py``) through one ``httpx.AsyncClient``; ``GET /statement``
reads an SQLite file through an async SQLAlchemy engine; ``GET /ping`` does nothing.
Nothing here knows about lagscope or about faults: every fault comes from the probe.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

RATES_URL = os.environ.get("LEDGER_RATES_URL", "http://127.0.0.1:8765")
_folder = os.environ.get("LAGSCOPE_RUN_DIR") or tempfile.gettempdir()  # no mkdtemp at import
engine = create_async_engine(
    f"sqlite+aiosqlite:///{Path(_folder, f'ledger-{os.getpid()}.sqlite3')}",
    pool_size=40, max_overflow=0,
)  # fmt: skip
Sessions = async_sessionmaker(engine)
rates = httpx.AsyncClient(base_url=RATES_URL, timeout=30.0)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(text("create table if not exists entries (id int, cents int)"))
        await conn.execute(text("insert into entries values (1, 1250), (2, -300)"))
    yield
    await rates.aclose()
    await engine.dispose()


app = FastAPI(title="ledger", lifespan=lifespan)


@app.get("/balance")
async def balance() -> dict[str, float]:
    response = await rates.get("/rates/eur")
    if response.status_code >= 500:
        raise HTTPException(status_code=502, detail="the rates service failed")
    return {"eur": 9.5 * response.json()["rate"]}


@app.get("/convert")
async def convert() -> dict[str, float]:
    response = await rates.get("/fx/usd")
    if response.status_code >= 500:
        raise HTTPException(status_code=502, detail="the fx service failed")
    return {"usd": 9.5 * response.json()["rate"]}


@app.get("/statement")
async def statement() -> dict[str, int]:
    async with Sessions() as session:
        rows = await session.execute(text("select sum(cents) from entries"))
        return {"cents": int(rows.scalar() or 0)}


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}
