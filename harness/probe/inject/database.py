"""``db_latency``: SQLAlchemy statements delayed before they reach the database.

One ``before_cursor_execute`` listener on the ``Engine`` class (SQLAlchemy's own event
API: every engine, and the sync engine inside every ``AsyncEngine``), removed when no
``db_latency`` is on.  Under an async engine the statement runs in SQLAlchemy's
greenlet on the event loop: the delay is awaited there (``await_only``), so the loop
goes on serving while that request waits, as it would on a slow database.  A sync
engine's statement sleeps in the thread that runs it.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from lagscope.injection import Injection


@dataclass
class Rule:
    injection: Injection
    matched: int = 0
    affected: int = 0
    pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        text = str(self.injection.params.get("pattern") or "")
        self.pattern = re.compile(text, re.IGNORECASE) if text else None


@dataclass
class _State:
    rules: tuple[Rule, ...] = ()
    random: random.Random = field(default_factory=random.Random)
    listening: bool = False


STATE = _State()


def delay_for(statement: str) -> float:
    """Seconds to hold ``statement`` back (0.0: none), counting what each rule did."""
    delay = 0.0
    for rule in STATE.rules:
        if rule.pattern is not None and not rule.pattern.search(statement):
            continue
        rule.matched += 1
        if STATE.random.random() < float(rule.injection.params.get("probability", 1.0)):
            rule.affected += 1
            delay += float(rule.injection.params["latency_ms"]) / 1000.0
    return delay


def injected_db_latency(delay_s: float) -> None:
    """Hold the statement: awaited under an async engine, slept under a sync one."""
    try:
        from sqlalchemy.util.concurrency import await_only, in_greenlet
    except ImportError:  # SQLAlchemy 2.0 keeps them here
        from sqlalchemy.util._concurrency_py3k import (  # type: ignore[no-redef]
            await_only,
            in_greenlet,
        )
    if in_greenlet():
        await_only(asyncio.sleep(delay_s))
    else:
        time.sleep(delay_s)


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if STATE.rules:
        delay = delay_for(statement)
        if delay:
            injected_db_latency(delay)


def set_rules(injections: list[Injection], *, seed: int) -> tuple[Rule, ...]:
    """Make ``injections`` the rules; listen while there are any (SQLAlchemy is imported
    only if the app has, or when a rule asks)."""
    kept = {rule.injection: rule for rule in STATE.rules}
    rules = tuple(kept.get(i) or Rule(i) for i in injections)
    if rules and not STATE.rules:
        STATE.random = random.Random(seed)
    STATE.rules = rules
    if rules and not STATE.listening:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
        STATE.listening = True
    elif not rules and STATE.listening:
        _stop_listening()
    return rules


def _stop_listening() -> None:
    if "sqlalchemy" in sys.modules:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", _before_cursor_execute)
    STATE.listening = False
