"""The injector's state, shared by every worker through one small file in the run directory.

The worker that takes a switch (``PUT /_lagscope/inject``) writes the new state to
``inject.json`` atomically (a temporary file, then ``os.replace``) and applies it at
once; every worker reads the file before serving (a worker started late, or restarted
after a crash, joins the current state) and then every ``POLL_S``, applying a change.
The harness writes the file before the servers start for ``--inject``.

As with shop's fault switch, a worker compares the file's bytes with the bytes it last
applied or wrote (a stat can miss a replacement), and writes and applies its own switch
with no ``await`` between, so its follower never applies an older file over it.

Its content is ``lagscope.injection.encode_state``'s.  ``id`` names one switch: a
``worker_crash`` in it terminates one worker once (the lock ``inject.json.crash-<id>``
says which already did).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lagscope.injection import Injection, decode_state

POLL_S = 0.05


@dataclass(frozen=True)
class Switch:
    injections: tuple[Injection, ...]
    id: str


def decode(content: bytes) -> Switch:
    """The switch a state file holds; ValueError if it is not one."""
    injections, switch_id = decode_state(content)
    return Switch(injections, switch_id)


def write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically (one writer per process at a time)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


class Follower:
    """Reads the state file when it changed since this worker last applied or wrote it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: bytes | None = None

    def wrote(self, content: bytes) -> None:
        self.seen = content

    def changed(self) -> Switch | None:
        """The new switch, or None (no file yet, unchanged, or unreadable: logged by caller
        through the ValueError/OSError it raises)."""
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if content == self.seen:
            return None
        self.seen = content
        return decode(content)


def claim_crash(path: Path, switch_id: str) -> bool:
    """True for the one worker that takes ``switch_id``'s crash (an exclusive create)."""
    lock = path.with_name(f"{path.name}.crash-{switch_id or 'start'}")
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True
