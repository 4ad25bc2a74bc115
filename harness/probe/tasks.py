"""Where pending asyncio tasks wait: the innermost user frame of each task's await chain.

A task suspended in ``await`` has a chain of coroutines (``cr_await``) down to the
future it waits on.  The innermost frame of the user's code in that chain is the line
the task waits at (``await client.post(...)``, ``async with semaphore``).  Counting
those over all pending tasks says where the work of the process is stuck.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

MAX_DEPTH = 64
MAX_TASKS = 5000  # beyond this the count is a sample, to bound the cost


def _frame(obj: Any) -> FrameType | None:
    for name in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(obj, name, None)
        if frame is not None:
            return frame  # type: ignore[no-any-return]
    return None


def _awaited(obj: Any) -> Any:
    for name in ("cr_await", "gi_yieldfrom", "ag_await"):
        inner = getattr(obj, name, None)
        if inner is not None:
            return inner
    return None


def wait_site(coro: Any, is_user: Callable[[str], bool]) -> tuple[str, int, str] | None:
    """``(filename, line, function)`` of the innermost user frame in ``coro``'s await chain."""
    site = None
    obj = coro
    for _ in range(MAX_DEPTH):
        frame = _frame(obj)
        if frame is None:
            break
        code = frame.f_code
        if is_user(code.co_filename):
            site = (code.co_filename, frame.f_lineno or 0, code.co_name)
        obj = _awaited(obj)
        if obj is None:
            break
    return site


def wait_sites(
    tasks: Iterable[asyncio.Task[Any]], is_user: Callable[[str], bool]
) -> Counter[tuple[str, int, str]]:
    """How many of ``tasks`` (not done) wait at each user site."""
    sites: Counter[tuple[str, int, str]] = Counter()
    for n, task in enumerate(tasks):
        if n >= MAX_TASKS:
            break
        if task.done():
            continue
        site = wait_site(task.get_coro(), is_user)
        if site is not None:
            sites[site] += 1
    return sites
