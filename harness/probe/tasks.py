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


def _first(obj: Any, names: tuple[str, str, str]) -> Any:
    """The first of ``names`` (a coroutine's, a generator's, an async generator's) that
    ``obj`` has and is not None."""
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _frame(obj: Any) -> FrameType | None:
    return _first(obj, ("cr_frame", "gi_frame", "ag_frame"))  # type: ignore[no-any-return]


def _code(obj: Any) -> CodeType | None:
    return _first(obj, ("cr_code", "gi_code", "ag_code"))  # type: ignore[no-any-return]


def _awaited(obj: Any) -> Any:
    return _first(obj, ("cr_await", "gi_yieldfrom", "ag_await"))


Site = tuple[str, int, str]  # (filename, line, function)


def wait_site(
    coro: Any,
    is_user: Callable[[str], bool],
    endpoints: Mapping[CodeType, str] | None = None,
    *,
    user_files: dict[str, bool] | None = None,
) -> tuple[Site | None, str | None]:
    """The innermost user frame in ``coro``'s await chain, and the endpoint the chain runs.

    The chain is walked by code objects (``cr_code``, ``cr_await``), not frames: on
    Python 3.11+ reading a suspended coroutine's ``cr_frame`` makes a frame object for
    it, which then costs again when the coroutine returns.  Only the innermost user
    link's frame is read, for its line.  ``user_files`` memoises ``is_user`` over one
    sample's walks (a chain repeats the same few files task after task)."""
    innermost: tuple[Any, CodeType] | None = None  # the innermost user link so far
    endpoint = None
    known = {} if user_files is None else user_files
    obj = coro
    for _ in range(MAX_DEPTH):
        # Coroutines first, inline: nearly every link of a chain is one.
        code = getattr(obj, "cr_code", None)
        if code is None:
            code = _code(obj)
            if code is None:
                break
        filename = code.co_filename
        user = known.get(filename)
        if user is None:
            user = known[filename] = is_user(filename)
        if user:
            innermost = (obj, code)
        if endpoint is None and endpoints:
            endpoint = endpoints.get(code)
        inner = getattr(obj, "cr_await", None)
        obj = inner if inner is not None else _awaited(obj)
        if obj is None:
            break
    if innermost is None:
        return None, endpoint
    link, code = innermost
    frame = _frame(link)  # None once it has returned: its first line then
    line = frame.f_lineno if frame is not None else code.co_firstlineno
    return (code.co_filename, line or 0, code.co_name), endpoint


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
