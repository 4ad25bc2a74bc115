"""The run directory: created once (never overwritten), with a shared timeline of events.

Every file is written whole or not at all (a temporary file renamed over it), so a full
disk or a killed process leaves nothing half-written that a reader would choke on.  An OS
error on the run directory becomes a RunDirError: one line naming the path and what to do.
See docs/run-directory.md for every file and column.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from lagscope import rundir
from lagscope.appends import append_whole
from lagscope.errors import RunDirError, UsageError

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space(exc: OSError) -> bool:
    """The error says the filesystem (or the user's quota) is full (pyarrow's errors carry
    the errno in their text only)."""
    return exc.errno in _NO_SPACE or "No space left on device" in str(exc)


def explain(exc: OSError, where: Path) -> str:
    """What went wrong with ``where``, in words (the OS's own text when nothing fits better)."""
    if no_space(exc):
        return f"no space left on the filesystem of {where}"
    if exc.errno is None:  # pyarrow: the OS's text is in the message
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if exc.errno == errno.EROFS:
        return f"{where} is on a read-only filesystem"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {where}"
    if exc.errno == errno.ENOTDIR:
        return f"{exc.filename or where} is in the way: a file where a directory should be"
    if exc.errno == errno.ENOENT and where.is_dir():  # /proc, /sys: no new directories
        return f"{where} does not take new files or directories ({exc.strerror})"
    return f"{exc.strerror or type(exc).__name__} ({exc.filename or where})"


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` (itself included) that exists."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor)


def check_writable(path: Path, *, flag: str = "--out") -> None:
    """Raise RunDirError unless ``path`` can be created (or written, when it is an empty
    directory): by trying, in its nearest existing ancestor, with a directory removed at once.

    Permissions, a read-only filesystem, a file where a directory should be and a virtual
    filesystem (``/proc``) are all found here, before anything starts.
    """
    where = _existing_ancestor(path)
    fix = f"choose another {flag}"
    if not where.is_dir():
        raise RunDirError(
            f"cannot create the run directory {path}: {where} is a file, not a directory; {fix}"
        )
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".lagscope-check-", dir=where))
    except OSError as exc:
        if exc.errno == errno.EROFS:
            fix = f"choose an {flag} on a writable filesystem"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            fix = f"choose an {flag} you can write to, or change the permissions of {where}"
        elif no_space(exc):
            fix = f"free space there, or choose an {flag} on another filesystem"
        raise RunDirError(
            f"cannot create the run directory {path}: {explain(exc, where)}; {fix}"
        ) from exc


def check_new(path: Path) -> None:
    """Raise UsageError when ``path`` exists and is not an empty directory."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"run directory {path} is a file, not a directory; choose another --out")
    try:
        taken = path.is_dir() and any(path.iterdir())
    except OSError as exc:
        raise RunDirError(
            f"cannot read the run directory {path}: {explain(exc, path)}; choose another --out"
        ) from exc
    if taken:
        raise UsageError(
            f"run directory {path} already exists and is not empty; choose another --out"
        )


def create(path: Path) -> Path:
    """Create ``path`` as a new run directory; refuse one that exists and is not empty."""
    check_new(path)  # checked before the run starts too; again here, just before creating
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        check_writable(path)  # says what is wrong and what to do, when it can
        raise RunDirError(f"cannot create the run directory {path}: {explain(exc, path)}") from exc
    claim(path)
    return path


def create_numbered(path: Path) -> Path:
    """Create ``path`` as an empty directory, or ``path-2``, ``path-3``... when it exists
    (an atomic mkdir each): two runs started in the same second with the default --out get a
    directory each.  Return the one created."""
    n, candidate = 1, path
    while True:
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.name}-{n}")
        except OSError as exc:
            raise RunDirError(
                f"cannot create the run directory {candidate}: {explain(exc, candidate.parent)}; "
                "choose another --out"
            ) from exc


def claim(path: Path) -> None:
    """Make the run directory ``path`` this run's by creating ``logs/`` (an atomic mkdir):
    of two runs started on one empty directory at once, the second is refused here instead
    of sharing its files."""
    try:
        (path / rundir.LOGS).mkdir()
    except FileExistsError as exc:
        raise RunDirError(
            f"run directory {path} was just taken by another run; choose another --out"
        ) from exc
    except OSError as exc:
        raise RunDirError(f"cannot create the run directory {path}: {explain(exc, path)}") from exc


def write_failed(exc: OSError, path: Path) -> RunDirError:
    """The RunDirError of a failed write of ``path`` (one line: which file, why), caused by
    ``exc``."""
    error = RunDirError(f"writing {path} failed: {explain(exc, path.parent)}")
    error.__cause__ = exc
    return error


def event_line(event: str, *, source: str = "harness", **detail: Any) -> str:
    """One line of ``events.jsonl``, timed now."""
    return json.dumps({"t": time.time(), "source": source, "event": event, **detail}) + "\n"


def log_event(run_dir: Path, event: str, *, source: str = "harness", **detail: Any) -> None:
    """Append one event to ``events.jsonl`` (written by the harness and the load generator).

    One ``write`` per line: appends of several processes interleave whole lines.
    Raises RunDirError when the line cannot be written.
    """
    append_event_lines(run_dir, event_line(event, source=source, **detail))


def append_event_lines(run_dir: Path, lines: str) -> None:
    """Append whole lines to ``events.jsonl``, or nothing (RunDirError)."""
    path = run_dir / rundir.EVENTS
    try:
        append_whole(path, lines.encode("utf-8"))
    except OSError as exc:
        raise write_failed(exc, path) from exc


def hold_reserve(run_dir: Path, nbytes: int) -> None:
    """Take ``nbytes`` of the filesystem into ``.reserve``: room kept for finishing the run
    (merging the requests, writing the report) if the disk fills meanwhile."""
    path = run_dir / rundir.RESERVE
    try:
        with open(path, "wb") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, nbytes)
            except OSError as exc:
                if no_space(exc):
                    raise
                f.write(bytes(nbytes))  # a filesystem without fallocate
    except OSError as exc:
        release_reserve(run_dir)
        raise RunDirError(
            f"cannot keep {nbytes:,} bytes for the report in {run_dir}: {explain(exc, run_dir)}; "
            "free space there or choose another --out"
        ) from exc


def release_reserve(run_dir: Path) -> None:
    """Give the reserve's room back (to the run's last writes)."""
    with contextlib.suppress(OSError):
        (run_dir / rundir.RESERVE).unlink()


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (RunDirError when it cannot be written)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise write_failed(exc, path) from exc


def write_text(path: Path, text: str) -> None:
    """Write ``path`` (UTF-8) whole or not at all (RunDirError when it cannot be written)."""
    write_bytes(path, text.encode("utf-8"))


def make_dir(path: Path) -> None:
    """``mkdir -p`` (RunDirError when it cannot be made)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(exc, path) from exc


def count_events(run_dir: Path, event: str) -> int:
    """How many ``event`` lines ``events.jsonl`` holds so far."""
    try:
        lines = (run_dir / rundir.EVENTS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if f'"event": "{event}"' in line)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path``, whole or not at all."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def spool_bytes(run_dir: Path) -> int:
    """Bytes of the request parts waiting in ``spool/`` (what merging them writes again)."""
    spool = run_dir / rundir.SPOOL
    total = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(spool):
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
    return total
