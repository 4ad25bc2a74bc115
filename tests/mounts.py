"""Hostile places for a run directory, made by a test: a tmpfs of a given size, or
read-only, and a process that meets file permissions as a user would (root only).

CI runs as root; elsewhere the tests that need these skip and say why.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="mounts a tmpfs or drops capabilities: run the tests as root (CI does)",
)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


@contextlib.contextmanager
def tmpfs(path: Path, *, size: str, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` (``"1m"``, ``"48m"``) mounted on ``path`` while the block runs."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        # Lazy: a process the test failed to stop must not keep the mount (and fail CI).
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path, *, leave: int = 0) -> int:
    """Write ``path`` until its filesystem has at most ``leave`` bytes free; return its size."""
    free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
    size = max(0, free - leave)
    with open(path, "wb") as f, contextlib.suppress(OSError):
        os.posix_fallocate(f.fileno(), 0, size)
    return size


def as_a_user() -> None:
    """``preexec_fn``: the program runs as root without root's power to ignore file
    permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped from the bounding set before
    exec), so a directory it may not write refuses it as it would any user; SIGINT as at a
    terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
