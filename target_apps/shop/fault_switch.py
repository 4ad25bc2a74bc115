"""The run-time fault switch, shared by every worker process through a small state file.

``faults.enabled`` lives in each worker, but a server with ``--workers 2`` (uvicorn or
gunicorn) hands each request, the admin call included, to one of them.  So when
``LAGSCOPE_FAULT_FILE`` names a file (the harness gives each run ``faults.json`` in its
run directory), a switch is written there atomically (a temporary file, then
``os.replace``) and applied at once in the worker that took it; every worker follows
the file: it reads it before serving (a worker started late, or restarted, joins the
current state) and then every ``POLL_S``, applying any change.  Without the variable a
switch reaches the worker that answers only: a service run alone has no shared place.

Invariants:

- Once written, the file is the state; ``SHOP_FAULTS`` is the state before the first switch.
- A worker writes its own switch and applies it with no ``await`` in between, so its
  follower can never apply an older file over it.
- Every worker ends with the content of the last write: ``os.replace`` is atomic, and the
  follower compares the file's bytes with the bytes it last applied or wrote.  Not its
  ``stat``: a replacing file may reuse the inode, the size and the mtime tick (ext4 stamps
  with a clock of a few ms) of the one it replaces, so a stat can miss a write.  Reading
  ~60 bytes costs ~3 µs against ~1.5 µs for a stat, at 20 reads a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from lagscope.target_apps.shop import faults
from lagscope.target_apps.shop.catalogue import SEED_PRODUCTS
from lagscope.target_apps.shop.faults import connection_leak, gc_pressure

from lagscope import rundir

FILE_ENV = rundir.ENV_FAULT_FILE
POLL_S = 0.05  # a switch reaches every worker within this, plus the loop's lag
log = logging.getLogger("shop.faults")

# The file content this worker last applied or wrote (None: none yet).
_seen: bytes | None = None


def state_file() -> Path | None:
    """The shared state file ``LAGSCOPE_FAULT_FILE`` names, or None (this worker only)."""
    name = os.environ.get(FILE_ENV, "")
    return Path(name) if name else None


def encode(names: Iterable[str], *, pid: int, t: float) -> bytes:
    """The state file's content: the faults on, and which worker wrote it when."""
    return (json.dumps({"enabled": sorted(names), "pid": pid, "t": t}) + "\n").encode()


def decode(content: bytes) -> set[str]:
    """The fault names a state file holds; ValueError if it is not one, KeyError if unknown."""
    data = json.loads(content)
    names = data.get("enabled") if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError('expected {"enabled": [fault names, ...]}')
    return faults.known(names)


def announce(now_on: Iterable[str]) -> None:
    """One line on stderr (the target's log) each time this worker's faults change."""
    print(f"shop worker {os.getpid()}: faults now {sorted(now_on) or 'none'}",
          file=sys.stderr, flush=True)  # fmt: skip


def switch(names: Iterable[str]) -> set[str]:
    """Switch exactly ``names`` on in every worker: here at once, elsewhere within POLL_S.

    Raise KeyError for an unknown fault (nothing changes) or OSError when the state file
    cannot be written (nothing changes).  Return the faults now on here.
    """
    global _seen
    wanted = faults.known(names)
    path = state_file()
    if path is not None:
        content = encode(wanted, pid=os.getpid(), t=time.time())
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # one writer per process
        tmp.write_bytes(content)
        os.replace(tmp, path)
        _seen = content
    now_on = faults.set_enabled(wanted)
    announce(now_on)
    return now_on


def refresh() -> bool:
    """Apply the state file if it changed since this worker last applied or wrote it.

    Return whether the faults were set.  A missing file changes nothing (no switch
    yet); an unreadable or invalid one is logged once and changes nothing.
    """
    global _seen
    path = state_file()
    if path is None:
        return False
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot read the fault state file %s: %s", path, exc)
        return False
    if content == _seen:
        return False
    _seen = content
    try:
        announce(faults.set_enabled(decode(content)))
    except (ValueError, KeyError) as exc:
        log.warning("ignoring the fault state file %s: %s", path, exc)
        return False
    return True


async def settle() -> None:
    """The side effects of a switch: with ``connection_leak`` off, close what it leaked;
    ``gc_pressure`` on warms its cache (one pause of the loop), off lets it go."""
    if faults.is_on("gc_pressure"):
        gc_pressure.warm(SEED_PRODUCTS[:20])
    else:
        gc_pressure.drop()
    if not faults.is_on("connection_leak"):
        await connection_leak.release_leaked()


async def follow(*, interval_s: float = POLL_S) -> None:
    """Apply every change of the state file, looking every ``interval_s``, until cancelled."""
    while True:
        if refresh():
            try:
                await settle()
            except Exception:  # the next switch tries again; the follower must go on
                log.exception("closing the sessions connection_leak leaked failed")
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def following() -> AsyncIterator[None]:
    """While the worker serves, follow the state file (nothing without ``LAGSCOPE_FAULT_FILE``).

    The file is read once before the worker serves, so its first request sees the state.
    """
    if state_file() is None:
        yield
        return
    refresh()
    task = asyncio.get_running_loop().create_task(follow(), name="shop-fault-switch")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
