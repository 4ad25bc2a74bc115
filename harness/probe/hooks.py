"""Process-wide hooks that count what an app does, installed without touching its code.

    SQLAlchemy   ``Pool.connect`` is wrapped (once, on the class): every pool of every
                 engine registers itself on first use, and calls still inside
                 ``connect()`` (waiting for a free connection) are counted.
                 ``Session.__init__`` is wrapped to note where and when each session
                 was opened (a few raw frames); a session still in a transaction holds
                 a connection, so a leak is named by where its sessions open.
    logging      ``Logger.callHandlers`` counts records (and their source line) and
                 ``Handler.format`` counts the bytes the handlers write.

Counters are plain ints bumped under the GIL from any thread: a lost increment in a
race is acceptable for a gauge.  Installing twice is a no-op.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

RawFrame = tuple[str, int, str]  # (filename, line, function)
OPENED_DEPTH = 8  # frames kept of where a session was opened, innermost first


@dataclass
class DbCounters:
    pools: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    connecting: int = 0  # calls inside Pool.connect(): waiting for (or opening) a connection
    # The same per pool, and each pool's name for the metrics' ``engine`` label.
    connecting_by_pool: weakref.WeakKeyDictionary[Any, int] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    names: weakref.WeakKeyDictionary[Any, str] = field(default_factory=weakref.WeakKeyDictionary)
    # Every live Session: where it was opened (innermost frame first) and when (monotonic).
    sessions: weakref.WeakKeyDictionary[Any, tuple[tuple[RawFrame, ...], float]] = field(
        default_factory=weakref.WeakKeyDictionary
    )


@dataclass
class LogCounters:
    records: int = 0
    bytes: int = 0
    sources: Counter[tuple[str, int]] = field(default_factory=Counter)


DB = DbCounters()
LOGS = LogCounters()
_installed: set[str] = set()


def install_sqlalchemy() -> bool:
    """Wrap ``sqlalchemy.pool.Pool.connect`` once the app has imported SQLAlchemy.

    Returns False while it has not (the probe never imports it for an app that does
    not use it; the gauge sampler calls this again at every sample, which is cheap).
    """
    if "sqlalchemy" in _installed:
        return True
    if "sqlalchemy" not in sys.modules:
        return False
    try:
        from sqlalchemy.pool import Pool
    except ImportError:
        return False
    original: Callable[[Any], Any] = Pool.connect

    def connect(self: Any) -> Any:
        DB.pools.add(self)
        DB.connecting += 1
        waiting = DB.connecting_by_pool
        waiting[self] = waiting.get(self, 0) + 1
        try:
            return original(self)
        finally:
            DB.connecting -= 1
            waiting[self] -= 1

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    Pool.connect = connect  # type: ignore[method-assign]
    _install_holders()
    _installed.add("sqlalchemy")
    return True


def _opened_here(depth: int = OPENED_DEPTH) -> tuple[RawFrame, ...]:
    """The caller's caller's stack, innermost first, as raw frames (cheap: no file I/O)."""
    frame: FrameType | None = sys._getframe(2)
    frames: list[RawFrame] = []
    while frame is not None and len(frames) < depth:
        frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(frames)


def _install_holders() -> None:
    """Note where each session was opened (and when), and keep a weak set of sessions.

    Nothing runs per query or per checkout: a session holds a connection while it is in
    a transaction (SQLAlchemy 2 begins one on first use and gives the connection back at
    commit, rollback or close), which the sampler asks only every quarter second.
    """
    from sqlalchemy.orm import Session

    original_init: Callable[..., None] = Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        DB.sessions[self] = (_opened_here(), time.monotonic())

    init.__wrapped__ = original_init  # type: ignore[attr-defined]
    Session.__init__ = init  # type: ignore[method-assign]


def held_since(min_held_s: float) -> list[tuple[RawFrame, ...]]:
    """Where the sessions opened ``min_held_s`` or longer ago and still in a transaction
    were opened: each holds a connection, or waited for one and was never closed."""
    now = time.monotonic()
    try:
        sessions = list(DB.sessions.items())
    except RuntimeError:  # a thread opened a session meanwhile: the next sample sees it
        return []
    return [
        where for session, (where, since) in sessions
        if now - since >= min_held_s and session.in_transaction()
    ]  # fmt: skip


def pool_figures() -> tuple[int, int, int, str]:
    """(checked out, capacity, waiting, dialects) over every queue pool seen so far.

    Capacity is size + max overflow; 0 when a pool has no bound (or none is known).
    """
    checked_out = capacity = 0
    dialects: set[str] = set()
    unbounded = False
    for pool in list(DB.pools):
        checkedout = getattr(pool, "checkedout", None)
        if checkedout is None:
            continue
        checked_out += int(checkedout())
        overflow = int(getattr(pool, "_max_overflow", 0))
        unbounded = unbounded or overflow < 0
        capacity += int(pool.size()) + max(overflow, 0)
        dialects.add(_dialect(pool))
    return (
        checked_out,
        0 if unbounded else capacity,
        max(DB.connecting, 0),
        "+".join(sorted(dialects)),
    )


def _dialect(pool: Any) -> str:
    return str(getattr(getattr(pool, "_dialect", None), "name", "") or "?")


def pool_name(pool: Any) -> str:
    """A stable name for ``pool``: its dialect, numbered from the second pool of a dialect
    (``sqlite``, ``postgresql``, ``postgresql#2``)."""
    name = DB.names.get(pool)
    if name is None:
        dialect = _dialect(pool)
        same = sum(1 for n in list(DB.names.values()) if n.split("#")[0] == dialect)
        name = dialect if same == 0 else f"{dialect}#{same + 1}"
        DB.names[pool] = name
    return name


def pools_by_engine() -> list[tuple[str, int, int, int]]:
    """(name, checked out, capacity, waiting) of every queue pool seen so far."""
    found = []
    for pool in list(DB.pools):
        checkedout = getattr(pool, "checkedout", None)
        if checkedout is None:
            continue
        overflow = int(getattr(pool, "_max_overflow", 0))
        capacity = 0 if overflow < 0 else int(pool.size()) + overflow
        waiting = max(DB.connecting_by_pool.get(pool, 0), 0)
        found.append((pool_name(pool), int(checkedout()), capacity, waiting))
    return sorted(found)


def install_logging() -> None:
    """Count every log record handled and every byte formatted for output."""
    if "logging" in _installed:
        return
    call_handlers = logging.Logger.callHandlers
    format_record = logging.Handler.format

    def counting_call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        LOGS.records += 1
        LOGS.sources[(record.pathname, record.lineno)] += 1
        call_handlers(self, record)

    def counting_format(self: logging.Handler, record: logging.LogRecord) -> str:
        text = format_record(self, record)
        if not isinstance(self, logging.handlers.QueueHandler):  # formatted again when written
            LOGS.bytes += len(text) + 1
        return text

    logging.Logger.callHandlers = counting_call_handlers  # type: ignore[method-assign]
    logging.Handler.format = counting_format  # type: ignore[method-assign]
    _installed.add("logging")
