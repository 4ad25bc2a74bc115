"""Running ``lagscope run`` for real from a test and reading what it concluded."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from lagscope.harness.cli.main import main
from lagscope.reports.summary_types import Summary

from tests.reports.summary_shape import shape_errors

DURATION = "5s"


def lagscope_run(out: Path, *args: str) -> dict[str, Any]:
    """Run ``lagscope run ARGS`` (5 s of load unless ARGS say otherwise); return its summary."""
    argv = ["run", "--duration", DURATION, "--out", str(out), *args]
    assert main(argv) == 0, f"lagscope {shlex.join(argv)} failed"
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert shape_errors(summary, Summary) == []  # what summary_types declares, no more
    return summary


def kinds(summary: dict[str, Any]) -> list[str]:
    return [finding["kind"] for finding in summary["diagnosis"]]


def describe(summary: dict[str, Any]) -> str:
    """The findings and the gauges, for an assertion message."""
    lines = [f"{f['kind']} @ {f['location']}: {f['evidence']}" for f in summary["diagnosis"]]
    return "\n".join(lines or ["no findings"]) + f"\napp gauges: {summary.get('app')}"
