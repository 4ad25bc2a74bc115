"""The whole pipeline with its I/O: load a run directory, summarise, write the outputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from lagscope.reports.compare import Comparison, compare
from lagscope.reports.renderers.charts import run_charts, to_png, to_svg
from lagscope.reports.renderers.compare import compare_charts, render_compare_html
from lagscope.reports.renderers.gameday_chart import gameday_figure, gameday_png, mark_gameday
from lagscope.reports.renderers.html import render_html
from lagscope.reports.renderers.markdown import render_markdown
from lagscope.reports.rundata import load_run
from lagscope.reports.series import run_series
from lagscope.reports.slo_spec import Slo
from lagscope.reports.summary import summarize
from lagscope.reports.summary_types import Summary

from lagscope import rundir, runfiles


def build_summary(run_dir: str | Path, *, slos: Sequence[Slo] = ()) -> Summary:
    """Write ``summary.json`` and ``report.md`` only (no pages, no charts: a sweep's step,
    whose ``report.html`` and charts ``lagscope report`` renders when asked); return the
    summary.  RunDirError as ``build``."""
    path = Path(run_dir)
    summary = summarize(load_run(path), slos=slos)
    runfiles.write_text(path / rundir.SUMMARY, json.dumps(summary, indent=2) + "\n")
    runfiles.write_text(path / rundir.REPORT_MD, render_markdown(summary))
    return summary


def build(run_dir: str | Path, *, slos: Sequence[Slo] = (), png: bool = True) -> Summary:
    """Write ``summary.json``, ``report.md``, ``report.html`` (and ``charts/*.png``) into
    ``run_dir``; return the summary.

    Each file is written whole or not at all; RunDirError when one cannot be (a full disk,
    a read-only directory).
    """
    path = Path(run_dir)
    data = load_run(path)
    summary = summarize(data, slos=slos)
    runfiles.write_text(path / rundir.SUMMARY, json.dumps(summary, indent=2) + "\n")
    runfiles.write_text(path / rundir.REPORT_MD, render_markdown(summary))
    blockers = summary["loop"]["top_blockers"]
    series = run_series(data)
    figures = run_charts(series, top_blocker=blockers[0]["location"] if blockers else None)
    section = summary.get("gameday")
    gameday = section if section is not None and section["started"] else None
    if gameday is not None:
        mark_gameday(figures, gameday, offset=gameday["t0"] - series.t0)
    html = render_html(
        summary, {name: to_svg(fig) for name, fig in figures.items()}, config=data.run,
        gameday_svg=to_svg(gameday_figure(gameday)) if gameday is not None else None,
    )  # fmt: skip
    runfiles.write_text(path / rundir.REPORT_HTML, html)
    if png:
        runfiles.make_dir(path / rundir.CHARTS)
        for name, fig in figures.items():
            runfiles.write_bytes(path / rundir.CHARTS / f"{name}.png", to_png(fig))
    if gameday is not None:
        runfiles.write_bytes(path / rundir.GAMEDAY_PNG, gameday_png(gameday))
    return summary


def default_compare_out(run_a: Path, run_b: Path) -> Path:
    """Beside run A, named for run B: ``RUN_A/compare-<name of B>.html``."""
    return run_a / f"compare-{run_b.resolve().name}.html"


def build_compare(
    run_a: str | Path, run_b: str | Path, *, out: Path | None = None
) -> tuple[Comparison, Path]:
    """Summarise both runs (without rewriting their files), write the comparison page.

    Returns the comparison and the page's path.
    """
    path_a, path_b = Path(run_a), Path(run_b)
    data_a, data_b = load_run(path_a), load_run(path_b)
    result = compare(summarize(data_a), summarize(data_b))
    figures = compare_charts(("A", run_series(data_a)), ("B", run_series(data_b)))
    target = out or default_compare_out(path_a, path_b)
    html = render_compare_html(result, {name: to_svg(fig) for name, fig in figures.items()})
    runfiles.write_text(target, html)
    return result, target
