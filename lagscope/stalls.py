"""A recorded stall in words: its stack folded for a reader, its cause, and the remedy.

The stall events are those of ``stalls.jsonl`` (docs/run-directory.md): frames are
``[path, line, function, is_user]``, outermost first.  The reports (findings) and the
test plugin (a failing test) read the same events and say them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Cause = Literal["cpu", "wait"]

CALLEE_HEAD, CALLEE_TAIL = 3, 2  # library frames shown below the innermost user frame
FOREIGN_TAIL = 8  # frames shown of a stack with no user frame at all
BETWEEN_KEPT = 1  # library frames shown at each end of a run between two user frames

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
    the innermost frame.  Folded, each into one ``… N frames …`` line: the server and
    framework frames above, a long run of library frames between two user frames (a test
    calling an app through its client: the first and last of the run are kept), and one
    below the innermost user frame.

    ``frames`` are ``[path, line, function, is_user]``, outermost first (stalls.jsonl
    keeps them whole).
    """
    user = [i for i, frame in enumerate(frames) if len(frame) > 3 and frame[3]]
    if not user:
        hidden = max(0, len(frames) - FOREIGN_TAIL)
        return ([f"… {_frames(hidden)} above …"] if hidden else []) + format_stack(frames[hidden:])
    start = max(0, user[0] - 1)
    lines = [f"… {_frames(start)} of the server and framework …"] if start else []
    lines += format_stack(frames[start : user[0]])
    for here, there in zip(user, [*user[1:], None], strict=True):
        lines += format_stack([frames[here]])
        if there is None:
            break
        lines += _folded(frames[here + 1 : there], head=BETWEEN_KEPT, tail=BETWEEN_KEPT)
    lines += _folded(frames[user[-1] + 1 :], head=CALLEE_HEAD, tail=CALLEE_TAIL)
    return lines


def _folded(run: list[list[Any]], *, head: int, tail: int) -> list[str]:
    """A run of library frames, its middle folded when it is longer than ``head + tail + 1``."""
    if len(run) <= head + tail + 1:
        return format_stack(run)
    middle = f"… {_frames(len(run) - head - tail, 'library ')} …"
    return format_stack(run[:head]) + [middle] + format_stack(run[len(run) - tail :])


def _frames(count: int, kind: str = "") -> str:
    return f"{count} {kind}frame{'s' if count != 1 else ''}"


def machine_made(stall: Mapping[str, Any], *, threshold_ms: float) -> bool:
    """Whether a stall (an event of ``stalls.jsonl``) was the machine's rather than the
    code's: once the time the loop thread waited for a CPU is taken out (``cpu_wait_ms``,
    the machine busy with other work), less than the threshold remains."""
    waited = stall.get("cpu_wait_ms") or 0.0
    return float(stall["duration_ms"]) - float(waited) < threshold_ms
