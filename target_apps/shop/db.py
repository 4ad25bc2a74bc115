"""The shop's database: SQLAlchemy's async engine with a bounded connection pool.

``DATABASE_URL`` chooses the database (``postgresql+asyncpg://user@127.0.0.1:5432/shop``);
without it the shop uses an SQLite file (aiosqlite) in the run directory
(``$LAGSCOPE_RUN_DIR/shop.sqlite3``), or in a fresh temporary folder when run alone.
The pool is deliberately small and bounded (``SHOP_DB_POOL_SIZE``, default 5, plus
``SHOP_DB_MAX_OVERFLOW``, default 5; a checkout waits at most ``SHOP_DB_POOL_TIMEOUT_S``,
default 2 s) so that a leak shows within seconds instead of hours.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from lagscope.target_apps.shop.catalogue import SEED_PRODUCTS
from sqlalchemy import ForeignKey, String, event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lagscope import rundir


class Base(DeclarativeBase):
    pass


class ProductRow(Base):
    __tablename__ = "shop_products"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int]
    description: Mapped[str] = mapped_column(String(2000), default="")


class OrderRow(Base):
    __tablename__ = "shop_orders"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"))
    quantity: Mapped[int]
    amount_cents: Mapped[int]
    charge_id: Mapped[str] = mapped_column(String(64))


def database_url() -> str:
    """``DATABASE_URL``, else an SQLite file in the run directory (or a temporary folder)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    folder = os.environ.get(rundir.ENV_RUN_DIR) or tempfile.mkdtemp(prefix="shop-db-")
    return f"sqlite+aiosqlite:///{Path(folder, 'shop.sqlite3')}"


def _int_env(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def make_engine(url: str | None = None) -> AsyncEngine:
    """The async engine with the bounded pool described in the module docstring."""
    url = url or database_url()
    engine = create_async_engine(
        url,
        pool_size=_int_env("SHOP_DB_POOL_SIZE", 5),
        max_overflow=_int_env("SHOP_DB_MAX_OVERFLOW", 5),
        pool_timeout=float(os.environ.get("SHOP_DB_POOL_TIMEOUT_S", "2")),
    )
    if engine.dialect.name == "sqlite":
        # WAL lets readers run while an order is written; busy_timeout waits for the lock.
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


async def create_schema(engine: AsyncEngine) -> None:
    """Create the tables and seed the catalogue once (safe when several workers race)."""
    for attempt in range(5):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            break
        except (OperationalError, ProgrammingError, IntegrityError):
            # Another worker created a table between the check and the CREATE ("already
            # exists"); the next attempt's check sees it.
            if attempt == 4:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ProductRow))
        if count:
            return
        session.add_all(ProductRow(**product) for product in SEED_PRODUCTS)
        try:
            await session.commit()
        except IntegrityError:  # another worker seeded it first
            await session.rollback()


class Database:
    """The engine and the session factory of one worker."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
