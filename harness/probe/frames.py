"""Stacks of the loop thread: capture, classification of frames, and the blamed location.

A *user frame* is one whose file lies under the app's root and not in the standard
library, site-packages or lagscope itself.  The location of a stall is the innermost
user frame of its most frequent stack: the line of the user's code that was running
(or waiting on a call) when the loop stalled.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType

Frame = tuple[str, int, str]  # (absolute filename, line number, function name)
Stack = tuple[Frame, ...]  # outermost first
MAX_DEPTH = 200

_HARNESS_DIR = str(Path(__file__).resolve().parents[1]) + os.sep


def capture(
    frame: FrameType | None, endpoints: Mapping[CodeType, str] | None = None
) -> tuple[Stack, str | None]:
    """The stack ending at ``frame`` (outermost frame first) and the endpoint it runs in:
    the name in ``endpoints`` of the innermost code object on it that is found there."""
    frames: list[Frame] = []
    endpoint = None
    while frame is not None and len(frames) < MAX_DEPTH:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno or 0, code.co_name))
        if endpoint is None and endpoints:
            endpoint = endpoints.get(code)
        frame = frame.f_back
    frames.reverse()
    return tuple(frames), endpoint


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return tuple(sorted(str(Path(d).resolve()) + os.sep for d in dirs))


def _library_label(directory: str) -> str:
    packages = os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep
    return "site-packages" if directory.endswith(packages) else "stdlib"


@dataclass(frozen=True)
class FrameFilter:
    """Decides which frames belong to the user's code, and names them relative to the root."""

    app_root: str
    library_dirs: tuple[str, ...] = ()

    @classmethod
    def for_root(cls, app_root: str | os.PathLike[str]) -> FrameFilter:
        return cls(app_root=str(Path(app_root).resolve()) + os.sep, library_dirs=_library_dirs())

    def is_user(self, filename: str) -> bool:
        if not filename.startswith(self.app_root) or filename.startswith(_HARNESS_DIR):
            return False
        if any(filename.startswith(d) for d in self.library_dirs):
            return False
        return os.sep + "site-packages" + os.sep not in filename

    def relative(self, filename: str) -> str:
        """``filename`` as a report shows it: relative to the app root for the user's code,
        ``<stdlib>/…`` or ``<site-packages>/…`` for a library (wherever it is installed,
        a virtualenv under the app root included), else the absolute path."""
        for directory in sorted(self.library_dirs, key=len, reverse=True):
            if filename.startswith(directory):
                return f"<{_library_label(directory)}>/{filename[len(directory) :]}"
        marker = os.sep + "site-packages" + os.sep
        if marker in filename:
            return "<site-packages>/" + filename.split(marker, 1)[1]
        if filename.startswith(self.app_root):
            return filename[len(self.app_root) :]
        return filename

    def blame(self, stack: Stack) -> tuple[Frame | None, bool]:
        """Return the frame to blame in ``stack`` and whether it is user code.

        The innermost user frame when there is one, else the innermost frame
        that is not lagscope's own.
        """
        for frame in reversed(stack):
            if self.is_user(frame[0]):
                return frame, True
        for frame in reversed(stack):
            if not frame[0].startswith(_HARNESS_DIR):
                return frame, False
        return None, False
