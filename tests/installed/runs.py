"""``lagscope run`` in the installed venv, and what it concluded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.installed.environment import Completed, Installed


def lagscope_run(
    installed: Installed, out: Path, *args: str, cwd: Path
) -> tuple[Completed, dict[str, Any]]:
    """``lagscope run ARGS --out OUT`` from ``cwd``; its output and summary (exit 0 asserted)."""
    done = installed.run("lagscope", "run", *args, "--out", out, cwd=cwd)
    assert done.returncode == 0, done.describe()
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return done, summary


def findings(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The most severe finding of each kind (the diagnosis lists them most severe first)."""
    found: dict[str, dict[str, Any]] = {}
    for finding in summary["diagnosis"]:
        found.setdefault(finding["kind"], finding)
    return found


def describe(summary: dict[str, Any]) -> str:
    lines = [f"{f['severity']} {f['kind']} @ {f['location']}: {f['evidence']}"
             for f in summary["diagnosis"]]  # fmt: skip
    return "\n".join(lines or ["no findings"])


def line_of(path: Path, snippet: str) -> int:
    """The number of the line of ``path`` that contains ``snippet``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if snippet in line)
