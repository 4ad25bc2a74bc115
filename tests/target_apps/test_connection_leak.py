"""The seeded connection leak on real databases: SQLite always, PostgreSQL when one is given.

PostgreSQL tests need ``LAGSCOPE_TEST_POSTGRES_URL`` (``bash .ci/run`` starts a throwaway
server and sets it); without it they skip and say so.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import sqlalchemy.exc
from lagscope.target_apps.shop.db import Database, ProductRow, create_schema, make_engine
from lagscope.target_apps.shop.faults import connection_leak

POSTGRES_ENV = "LAGSCOPE_TEST_POSTGRES_URL"
SKIP_POSTGRES = (
    f"no PostgreSQL server: set {POSTGRES_ENV}=postgresql+asyncpg://USER@127.0.0.1:PORT/DB "
    "(bash .ci/run starts a throwaway server and sets it)"
)


def database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(SKIP_POSTGRES)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("SHOP_DB_POOL_SIZE", "2")
    monkeypatch.setenv("SHOP_DB_MAX_OVERFLOW", "1")
    monkeypatch.setenv("SHOP_DB_POOL_TIMEOUT_S", "0.3")
    return database_url(request.param, tmp_path)


def test_broken_dependency_leaks_until_the_pool_times_out(database: str) -> None:
    async def main() -> tuple[int, int]:
        engine = make_engine(database)
        try:
            await create_schema(engine)
            db = Database(engine)
            for product_id in (1, 2, 3):
                session = await connection_leak.session_broken(db.sessions)
                assert (await session.get(ProductRow, product_id)) is not None
            leaked = engine.pool.checkedout()  # type: ignore[attr-defined]
            one_more = await connection_leak.session_broken(db.sessions)
            with pytest.raises(sqlalchemy.exc.TimeoutError):
                await one_more.get(ProductRow, 4)
            await connection_leak.release_leaked()
            return leaked, engine.pool.checkedout()  # type: ignore[attr-defined]
        finally:
            await connection_leak.release_leaked()
            await engine.dispose()

    assert asyncio.run(main()) == (3, 0)


def test_fixed_dependency_returns_every_connection(database: str) -> None:
    async def main() -> int:
        engine = make_engine(database)
        try:
            await create_schema(engine)
            db = Database(engine)
            for product_id in range(1, 11):  # more requests than the pool holds
                async for session in connection_leak.session_fixed(db.sessions):
                    assert (await session.get(ProductRow, product_id)) is not None
            return int(engine.pool.checkedout())  # type: ignore[attr-defined]
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == 0


def test_switching_the_leak_off_while_a_request_waits_for_a_connection(database: str) -> None:
    async def main() -> int:
        engine = make_engine(database)
        try:
            await create_schema(engine)
            db = Database(engine)

            async def handle(product_id: int) -> ProductRow | None:  # one request's task
                session = await connection_leak.session_broken(db.sessions)
                return await session.get(ProductRow, product_id)

            for product_id in (1, 2, 3):  # the pool (2 + 1 overflow) is now drained
                await asyncio.create_task(handle(product_id))
            request = asyncio.create_task(handle(4))
            await asyncio.sleep(0.05)  # the request is inside the pool's wait
            await connection_leak.release_leaked()  # must not fail under it
            assert await request is not None  # it got a connection the release returned
            for _ in range(50):  # its session is closed once the request lets go
                if engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.1)
            return int(engine.pool.checkedout())  # type: ignore[attr-defined]
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == 0
