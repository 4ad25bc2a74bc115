"""A sweep's outputs with their I/O: results and recommendation into sweep.json, and sweep.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lagscope.reports.build import build
from lagscope.reports.renderers.sweep_html import render_sweep_html
from lagscope.reports.slo_spec import parse_slos
from lagscope.reports.sweep import recommend, results

from lagscope import rundir
from lagscope.runfiles import write_json, write_text


def build_sweep(sweep_dir: Path) -> dict[str, Any]:
    """Add ``results`` and ``recommendation`` to sweep.json, write sweep.html (and the
    ``report.html`` it links, of each configuration's best step, where a step did not
    write one); return the advice."""
    path = sweep_dir / rundir.SWEEP_JSON
    state = json.loads(path.read_text(encoding="utf-8"))
    rows = results(state)
    advice = recommend(
        rows,
        cpu_count=state.get("machine", {}).get("cpu_count"),
        ceiling=state["plan"]["limits"]["max_rate"],
    )
    state["results"] = rows
    state["recommendation"] = advice
    write_json(path, state)
    slos = parse_slos(state["plan"]["slos"])
    for row in rows:
        best = sweep_dir / row["run_dir_at_max"] if row.get("run_dir_at_max") else None
        if best is not None and not (best / rundir.REPORT_HTML).exists():
            build(best, slos=slos, png=False)  # PNG charts: lagscope report DIR
    write_text(sweep_dir / rundir.SWEEP_HTML, render_sweep_html(state))
    return advice
