"""Runs inside the Locust process: a sample of 4xx response bodies, for the diagnosis.

A 422 from FastAPI says which field of the request failed validation
(``detail[].loc``); the report quotes the most common one.  Keeping every body would
cost as much as the requests themselves, so each load process keeps at most one body per
endpoint and status every ``EVERY_S``, cut to ``MAX_CHARS``, appended to
``error-bodies.jsonl`` (one line per body, written whole in one call, so the lines of
several load processes never interleave).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from lagscope import rundir
from lagscope.appends import append_whole

EVERY_S = 0.2
MAX_CHARS = 2000


def body_text(response: Any) -> str | None:
    """The response's body as text (None when it has none or cannot be decoded)."""
    try:
        text = response.text
    except Exception:  # a body that does not decode, a response object without one
        return None
    return text if isinstance(text, str) else None


class ErrorBodies:
    """Appends a sample of 4xx bodies to ``error-bodies.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / rundir.ERROR_BODIES
        self._last: dict[tuple[str, str, int], float] = {}

    def wants(self, t: float, method: str, name: str, status: int) -> bool:
        """A 4xx whose endpoint and status had no body kept in the last ``EVERY_S``."""
        if not 400 <= status < 500:
            return False
        key = (method, name, status)
        if t - self._last.get(key, float("-inf")) < EVERY_S:
            return False
        self._last[key] = t
        return True

    def add(self, t: float, method: str, name: str, status: int, response: Any) -> None:
        if not self.wants(t, method, name, status):
            return
        text = body_text(response)
        if text is None:
            return
        row = {"t": t, "method": method, "name": name, "status": status,
               "body": text[:MAX_CHARS], "pid": os.getpid()}  # fmt: skip
        with contextlib.suppress(OSError):  # a full disk loses the sample, never the test
            append_whole(self.path, (json.dumps(row) + "\n").encode())
