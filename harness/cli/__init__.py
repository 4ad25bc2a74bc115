"""The ``lagscope`` command: ``run``, ``report``, ``compare``, ``apps``, ``sweep``, ``gameday``."""

from __future__ import annotations

from lagscope.harness.cli.main import main

__all__ = ["main"]
