"""Fault ``connection_leak``: a DB session opened in a dependency that never closes it.

A FastAPI dependency that ``return``s a session (instead of ``yield``ing it inside
``async with``) hands the endpoint a session nobody closes.  Its first query checks a
connection out of the pool and begins a transaction; the connection goes back only
if the garbage collector ever reaches the session (and then SQLAlchemy has to throw
the connection away, since it cannot run async cleanup from the collector).  In
production something usually keeps such sessions reachable for a while: a closure, a
cache, a reference cycle.  The pool (size + overflow) drains, further requests wait
``pool_timeout`` for a connection and fail, and the service is down while its CPU
idles.  Here the leaked sessions are kept in a list, so the leak is deterministic.

The fix is the ``yield`` dependency: ``async with sessions() as session: yield
session`` closes the session, and returns its connection, on every path, including
exceptions raised by the endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from lagscope.target_apps.shop.faults.cap import CAP
from sqlalchemy.exc import IllegalStateChangeError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# What keeps the leaked sessions reachable, with the request task that opened each.
_kept: list[tuple[AsyncSession, asyncio.Task[Any] | None]] = []


async def session_broken(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    session = sessions()
    if CAP.allow("connection_leak"):
        # SEEDED FAULT: the session is returned and kept, never closed: its connection leaks.
        _kept.append((session, asyncio.current_task()))
    return session


async def session_fixed(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def release_leaked() -> int:
    """Close every leaked session (when the fault is switched off); return how many.

    A session whose request is still running is not closed under it (that would break
    the request's query); a background task closes it once the request has finished.
    """
    count = len(_kept)
    kept, _kept[:] = list(_kept), []
    busy = await _close_all(kept)
    if busy:
        task = asyncio.get_running_loop().create_task(_close_when_idle(busy))
        _closers.add(task)
        task.add_done_callback(_closers.discard)
    return count


_closers: set[asyncio.Task[None]] = set()


Kept = tuple[AsyncSession, "asyncio.Task[Any] | None"]


async def _close_all(sessions: list[Kept]) -> list[Kept]:
    """Close the sessions whose requests are over; return the others."""
    busy = []
    for session, request in sessions:
        if request is not None and not request.done() and request is not asyncio.current_task():
            busy.append((session, request))
            continue
        try:
            await session.close()
        except IllegalStateChangeError:
            busy.append((session, request))
    return busy


async def _close_when_idle(sessions: list[Kept], *, tries: int = 100) -> None:
    for _ in range(tries):
        await asyncio.sleep(0.1)
        sessions = await _close_all(sessions)
        if not sessions:
            return
