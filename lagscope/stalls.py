"""A recorded stall in words: its stack folded for a reader, its cause, and the remedy.

The stall events are those of ``stalls.jsonl`` (docs/run-directory.md): frames are
``[path, line, function, is_user]``, outermost first.  The reports (findings) and the
test plugin (a failing test) read the same events and say them the same way.
"""

from __future__ import annotations

from typing import Any, Literal

Cause = Literal["cpu", "wait"]

CALLEE_HEAD, CALLEE_TAIL = 3, 2  # library frames shown below the innermost user frame
FOREIGN_TAIL = 8  # frames shown of a stack with no user frame at all

DOING: dict[str, str] = {
    "wait": "waiting in a blocking call",
    "cpu": "computing (CPU-bound)",
}

REMEDY: dict[str, str] = {
    "wait": (
        "Await an async client instead (httpx.AsyncClient, an async DB driver, aiofiles), or "
        "move the blocking call off the loop with `await run_in_threadpool(fn, ...)` / "
        "`await asyncio.to_thread(fn, ...)`; or declare the endpoint with plain `def` so "
        "FastAPI runs it in the threadpool."
    ),
    "cpu": (
        "Move the CPU-bound work off the event loop: a ProcessPoolExecutor via "
        "`loop.run_in_executor` (pure Python), or a thread for C code that releases the GIL "
        "(hashlib, zlib); or precompute/cache the result."
    ),
}


def format_stack(frames: list[list[Any]]) -> list[str]:
    """A stack's frames as ``"path:line in function"`` lines, outermost first."""
    return [f"{frame[0]}:{frame[1]} in {frame[2]}" for frame in frames]


def short_stack(frames: list[list[Any]]) -> list[str]:
    """The part of a stack a reader needs: from the caller of the outermost user frame to
    the innermost frame, the server/framework frames above it and a long run of library
    frames below the innermost user frame each folded into one ``… N frames …`` line.

    ``frames`` are ``[path, line, function, is_user]``, outermost first (stalls.jsonl
    keeps them whole).
    """
    user = [i for i, frame in enumerate(frames) if len(frame) > 3 and frame[3]]
    if not user:
        hidden = max(0, len(frames) - FOREIGN_TAIL)
        return ([f"… {hidden} frames above …"] if hidden else []) + format_stack(frames[hidden:])
    start = max(0, user[0] - 1)
    lines = [f"… {start} frames of the server and framework …"] if start else []
    lines += format_stack(frames[start : user[-1] + 1])
    below = frames[user[-1] + 1 :]
    if len(below) > CALLEE_HEAD + CALLEE_TAIL + 1:
        folded = len(below) - CALLEE_HEAD - CALLEE_TAIL
        lines += format_stack(below[:CALLEE_HEAD])
        lines.append(f"… {folded} library frames …")
        lines += format_stack(below[-CALLEE_TAIL:])
    else:
        lines += format_stack(below)
    return lines
