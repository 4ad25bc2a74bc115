"""Fixtures shared by every test: nothing a test starts may outlive it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psutil
import pytest


def _lagscope_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("lagscope-")}


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """Fail a test that leaves a child process or a lagscope thread running."""
    before_threads = _lagscope_threads()
    yield
    me = psutil.Process()
    alive = [p for p in me.children(recursive=True) if p.is_running() and p.status() != "zombie"]
    leaked_threads = _lagscope_threads() - before_threads
    for proc in alive:
        proc.kill()
    assert not alive, f"processes left running: {[(p.pid, p.name()) for p in alive]}"
    assert not leaked_threads, f"threads left running: {leaked_threads}"
