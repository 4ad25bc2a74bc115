"""The whole pipeline with its I/O: load a run directory, summarise, write the outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.renderers.gameday_chart import save_gameday_png
from reports.renderers.markdown import render_markdown
from reports.rundata import load_run
from reports.summary import summarize


def build(run_dir: str | Path) -> dict[str, Any]:
    """Write ``summary.json`` and ``report.md`` into ``run_dir``; return the summary."""
    path = Path(run_dir)
    summary = summarize(load_run(path))
    (path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (path / "report.md").write_text(render_markdown(summary), encoding="utf-8")
    if summary.get("gameday", {}).get("started"):
        save_gameday_png(summary["gameday"], path / "gameday.png")
    return summary
