"""Where pending asyncio tasks wait: the innermost user frame of each task's await chain.

A task suspended in ``await`` has a chain of coroutines (``cr_await``) down to the
future it waits on.  The innermost frame of the user's code in that chain is the line
the task waits at (``await client.post(...)``, ``async with semaphore``).  Counting
those over all pending tasks says where the work of the process is stuck.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import CodeType, FrameType
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


Site = tuple[str, int, str]  # (filename, line, function)


def wait_site(
    coro: Any,
    is_user: Callable[[str], bool],
    endpoints: Mapping[CodeType, str] | None = None,
    *,
    user_files: dict[str, bool] | None = None,
) -> tuple[Site | None, str | None]:
    """The innermost user frame in ``coro``'s await chain, and the endpoint the chain runs.

    ``user_files`` memoises ``is_user`` over one sample's walks (a chain repeats the same
    few files task after task)."""
    site = None
    endpoint = None
    known = {} if user_files is None else user_files
    obj = coro
    for _ in range(MAX_DEPTH):
        # Coroutines first, inline: nearly every link of a chain is one.
        frame = getattr(obj, "cr_frame", None)
        if frame is None:
            frame = _frame(obj)
            if frame is None:
                break
        code = frame.f_code
        filename = code.co_filename
        user = known.get(filename)
        if user is None:
            user = known[filename] = is_user(filename)
        if user:
            site = (filename, frame.f_lineno or 0, code.co_name)
        if endpoint is None and endpoints:
            endpoint = endpoints.get(code)
        inner = getattr(obj, "cr_await", None)
        obj = inner if inner is not None else _awaited(obj)
        if obj is None:
            break
    return site, endpoint


def wait_sites(
    tasks: Iterable[asyncio.Task[Any]],
    is_user: Callable[[str], bool],
    endpoints: Mapping[CodeType, str] | None = None,
) -> tuple[Counter[Site], Counter[tuple[str, Site]]]:
    """How many of ``tasks`` (not done) wait at each user site; and, for the tasks that
    serve a request, at each (endpoint, site)."""
    sites: Counter[Site] = Counter()
    requests: Counter[tuple[str, Site]] = Counter()
    user_files: dict[str, bool] = {}
    for n, task in enumerate(tasks):
        if n >= MAX_TASKS:
            break
        if task.done():
            continue
        site, endpoint = wait_site(task.get_coro(), is_user, endpoints, user_files=user_files)
        if site is not None:
            sites[site] += 1
            if endpoint is not None:
                requests[(endpoint, site)] += 1
    return sites, requests
