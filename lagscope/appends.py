"""Appending whole lines or nothing, so that a full disk never leaves a line cut short.

The probe, the sampler and the event log append to their files as the run goes.  A write
that does not fit is taken back (the file truncated to where it was) and the lines are
kept for the next try: when room comes back (the harness releases its reserve as the run
ends) they are written whole, and a reader never meets half a line.  Standard library
only: every server worker uses it.
"""

from __future__ import annotations

import os
from pathlib import Path


def append_whole(path: Path, data: bytes) -> None:
    """Append ``data`` (whole lines) to ``path``, or nothing: OSError when it does not fit."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        written = 0
        try:
            while written < len(data):
                written += os.write(fd, data[written:])
        except OSError:
            # Take back the part that fitted, unless another process appended after it
            # (the event log has several writers): then its line must stay.
            if written and os.fstat(fd).st_size == start + written:
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


class PendingLines:
    """Lines waiting to be appended to one file, kept until a write takes them whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: list[str] = []
        self.error: OSError | None = None  # the last failed write, None after one succeeds

    def add(self, text: str) -> None:
        if text:  # nothing to add: the next flush need not touch the file
            self._lines.append(text)

    def __len__(self) -> int:
        return len(self._lines)

    def flush(self) -> bool:
        """Append every pending line; False (lines kept) when they do not fit."""
        if not self._lines:
            return True
        data = "".join(self._lines).encode("utf-8")
        try:
            append_whole(self.path, data)
        except OSError as exc:
            self.error = exc
            return False
        self._lines, self.error = [], None
        return True
