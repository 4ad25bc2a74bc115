"""Small filesystems made by a test: a tmpfs of a given size, or read-only (root only).

CI runs as root; elsewhere the tests that need a mount skip and say why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounts a tmpfs: run the tests as root (CI does)"
)


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
