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
from types import CodeType, FrameType
from typing import Any

RawFrame = tuple[str, int, str]  # (filename, line, function)
# Where a session was opened: (code, instruction offset) of each frame, innermost first,
# flattened into one tuple; ``raw_frames`` names them.
Opened = tuple[Any, ...]
OPENED_DEPTH = 8  # frames kept of where a session was opened, innermost first


@dataclass
class DbCounters:
    pools: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    connecting: int = 0  # calls inside Pool.connect(): waiting for (or opening) a connection
    # The same per pool (by ``id``: a plain dict, no weak reference made per call; read
    # only for the pools still in ``pools``), and each pool's name for the metrics'
    # ``engine`` label.
    connecting_by_pool: dict[int, int] = field(default_factory=dict)
    names: weakref.WeakKeyDictionary[Any, str] = field(default_factory=weakref.WeakKeyDictionary)
    # Every live Session: where it was opened (``Opened``: innermost frame first) and when
    # (monotonic), under a weak reference to it whose callback is this dict's own ``pop``:
    # no Python code runs when a session opens or is freed (a WeakKeyDictionary ran three
    # Python calls at each).  ``opened_at`` looks one up.
    sessions: dict[weakref.ref[Any], tuple[Opened, float]] = field(default_factory=dict)


@dataclass
class LogCounters:
    records: int = 0
    bytes: int = 0
    sources: Counter[tuple[str, int]] = field(default_factory=Counter)


DB = DbCounters()
LOGS = LogCounters()
_installed: set[str] = set()
# Which files are the user's (``note_user_code``), and the answers so far: where a session
# opened is kept up to its innermost user frame, not a fixed depth.
_is_user: Callable[[str], bool] | None = None
_user_files: dict[str, bool] = {}


def note_user_code(is_user: Callable[[str], bool] | None) -> None:
    """Say which files are the user's (the probe's frame filter): the session hook then
    stops at the first user frame it meets (most of its cost is the frames it walks).
    None: it keeps ``OPENED_DEPTH`` frames."""
    global _is_user
    _is_user = is_user
    _user_files.clear()


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

    pools = DB.pools
    waiting = DB.connecting_by_pool

    def connect(self: Any) -> Any:
        # Per checkout: a membership test, not WeakSet.add (a new weak reference each call).
        if self not in pools:
            pools.add(self)
        key = id(self)
        DB.connecting += 1
        waiting[key] = waiting.get(key, 0) + 1
        try:
            return original(self)
        finally:
            DB.connecting -= 1
            waiting[key] -= 1

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    Pool.connect = connect  # type: ignore[method-assign]
    _install_holders()
    _installed.add("sqlalchemy")
    return True


def _opened_here(depth: int = OPENED_DEPTH) -> Opened:
    """The caller's caller's stack, innermost first, down to the first user frame (with
    ``note_user_code``) or ``depth`` frames: each frame's code and instruction offset,
    nothing more.

    Its line is not read here: Python finds a frame's line by scanning its code's line
    table (~2 µs a frame in SQLAlchemy's large functions), and a line is wanted only for
    the few sessions a sample finds held (``raw_frames``).  Nor is any frame past the
    first user frame (the one a report blames): on Python 3.11+ each ``f_back`` makes a
    frame object for a frame that had none, which then costs again when that frame
    returns; in a FastAPI app a session opens a frame or two below the user's code.
    """
    frame: FrameType | None = sys._getframe(2)
    kept: list[Any] = []
    is_user, known = _is_user, _user_files
    for _ in range(depth):
        if frame is None:
            break
        code = frame.f_code
        kept.append(code)
        kept.append(frame.f_lasti)
        if is_user is not None:
            user = known.get(code.co_filename)
            if user is None:
                user = known[code.co_filename] = is_user(code.co_filename)
            if user:
                break
        frame = frame.f_back
    return tuple(kept)


def _line(code: CodeType, offset: int) -> int:
    """The line of the instruction at ``offset`` (bytes) of ``code``, as ``f_lineno`` says."""
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line or code.co_firstlineno
    return code.co_firstlineno


def raw_frames(opened: Opened) -> tuple[RawFrame, ...]:
    """``(filename, line, function)`` of each frame ``_opened_here`` kept."""
    return tuple(
        (code.co_filename, _line(code, offset), code.co_name)
        for code, offset in zip(opened[::2], opened[1::2], strict=True)
    )


def _install_holders() -> None:
    """Note where each session was opened (and when), and keep a weak set of sessions.

    Nothing runs per query or per checkout: a session holds a connection while it is in
    a transaction (SQLAlchemy 2 begins one on first use and gives the connection back at
    commit, rollback or close), which the sampler asks only twice a second.
    """
    from sqlalchemy.orm import Session

    original_init: Callable[..., None] = Session.__init__
    sessions = DB.sessions
    forget = sessions.pop
    ref = weakref.ref

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        key = ref(self, forget)
        # A session initialised twice keeps its first entry: a live reference equals
        # another to the same object, so a second entry would only replace the value and
        # leave its own callback nothing to pop.
        if key not in sessions:
            sessions[key] = (_opened_here(), time.monotonic())

    init.__wrapped__ = original_init  # type: ignore[attr-defined]
    Session.__init__ = init  # type: ignore[method-assign]


def held_since(min_held_s: float) -> list[tuple[RawFrame, ...]]:
    """Where the sessions opened ``min_held_s`` or longer ago and still in a transaction
    were opened: each holds a connection, or waited for one and was never closed."""
    now = time.monotonic()
    held = []
    # A copy: a session freed meanwhile (by another thread, or by a collection that an
    # allocation here triggers) takes its entry out of the dict being read.
    for key, (where, since) in DB.sessions.copy().items():
        session = key()
        if session is not None and now - since >= min_held_s and session.in_transaction():
            held.append(raw_frames(where))
    return held


def opened_at(session: Any) -> tuple[Opened, float] | None:
    """Where and when ``session`` was opened (as the session hook noted it), if it was."""
    return DB.sessions.get(weakref.ref(session))


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
        waiting = max(DB.connecting_by_pool.get(id(pool), 0), 0)
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
