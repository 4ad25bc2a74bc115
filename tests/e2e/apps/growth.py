"""Two services that are not shop, for leaks judged by shape (tests/e2e/test_growth.py).

``leaky``: slow leaks, the kind production has.  Each sign-up starts a welcome sequence
as a task that waits 30 s for its next step (2 sign-ups a second in the scenario: the
pending tasks grow by 2 a second), and each report opens a DB session that is never
closed (one every 2 s: the pool of 30 would last a minute).
``steady``: growth that is not a leak.  An import fans out into 300 tasks that all finish
within 3 s (a burst that drains), and item pages are cached (the cache warms up over the
first seconds, then every page is in it: RSS plateaus).
Nothing here talks to lagscope: the probe must see it all.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

_folder = os.environ.get("LAGSCOPE_RUN_DIR") or tempfile.gettempdir()  # no mkdtemp at import
engine = create_async_engine(
    f"sqlite+aiosqlite:///{Path(_folder, 'leaky.sqlite3')}", pool_size=20, max_overflow=10
)
Sessions = async_sessionmaker(engine)
ITEMS = [{"id": i, "name": f"item-{i}"} for i in range(20)]
_reports: list[AsyncSession] = []  # what keeps the leaked sessions reachable
_tasks: set[asyncio.Task[None]] = set()  # keeps the tasks from being garbage-collected


def _keep(task: asyncio.Task[None]) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    for session in _reports:
        await session.close()
    await engine.dispose()


leaky = FastAPI(title="leaky", lifespan=lifespan)


async def welcome(user: int) -> None:
    await asyncio.sleep(30)  # the welcome sequence waits for its next step


@leaky.post("/signup")
async def signup() -> dict[str, int]:
    user = random.randrange(1 << 30)
    _keep(asyncio.create_task(welcome(user)))
    return {"user": user}


@leaky.get("/report")
async def report() -> dict[str, int]:
    session = Sessions()
    _reports.append(session)  # never closed: it stays in its transaction, holding a connection
    value = (await session.execute(text("select 42"))).scalar_one()
    return {"total": int(value)}


@leaky.get("/items")
async def items() -> list[dict[str, object]]:
    await asyncio.sleep(0.005)
    return ITEMS


steady = FastAPI(title="steady")
PAGE_BYTES = 200_000
_pages: dict[int, bytes] = {}


@steady.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    if item_id not in _pages:  # cached for good: 100 pages of 200 KB
        _pages[item_id] = random.randbytes(PAGE_BYTES)
    return {"id": item_id, "bytes": len(_pages[item_id])}


async def import_row(row: int) -> None:
    await asyncio.sleep(random.uniform(0.5, 3.0))  # every row is written within 3 s


@steady.post("/import")
async def start_import() -> dict[str, int]:
    for row in range(300):
        _keep(asyncio.create_task(import_row(row)))
    return {"rows": 300}
