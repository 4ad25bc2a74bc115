"""Process-wide hooks that count what an app does, installed without touching its code.

    SQLAlchemy   ``Pool.connect`` is wrapped (once, on the class): every pool of every
                 engine registers itself on first use, and calls still inside
                 ``connect()`` (waiting for a free connection) are counted.
    logging      ``Logger.callHandlers`` counts records (and their source line) and
                 ``Handler.format`` counts the bytes the handlers write.

Counters are plain ints bumped under the GIL from any thread: a lost increment in a
race is acceptable for a gauge.  Installing twice is a no-op.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DbCounters:
    pools: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    connecting: int = 0  # calls inside Pool.connect(): waiting for (or opening) a connection


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
        try:
            return original(self)
        finally:
            DB.connecting -= 1

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    Pool.connect = connect  # type: ignore[method-assign]
    _installed.add("sqlalchemy")
    return True


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
        dialects.add(str(getattr(getattr(pool, "_dialect", None), "name", "") or "?"))
    return (
        checked_out,
        0 if unbounded else capacity,
        max(DB.connecting, 0),
        "+".join(sorted(dialects)),
    )


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
