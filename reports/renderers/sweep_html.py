"""``sweep.html``: the sweep's table, charts and recommendation on one self-contained page."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

from lagscope.reports.renderers.charts import to_svg
from lagscope.reports.renderers.html import CSS
from matplotlib.figure import Figure

STYLE = """
.advice { font-size: 1.15rem; padding: 0.8rem 1rem; background: #eef6ee;
          border-left: 4px solid #3a3; }
.invalid { color: #a33; }
"""


def _chart(rows: list[dict[str, Any]], key: str, ylabel: str) -> str:
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.add_subplot()
    lines: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in rows:
        if r.get(key) is not None:
            tp = f" tp{r['threadpool']}" if r.get("threadpool") is not None else ""
            lines[f"{r['server']} {r['loop']}{tp}"].append((r["workers"], r[key]))
    for label, points in sorted(lines.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xlabel("workers")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return to_svg(fig)


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "–" if value is None else format(value, spec)


def render_sweep_html(state: dict[str, Any]) -> str:
    rows = state.get("results", [])
    machine = state.get("machine", {})
    advice = state.get("recommendation", {}).get("text", "")
    plan = state.get("plan", {})
    head = ["configuration", "max rate (req/s)", "P99 at max (ms)", "CPU at max (%)",
            "RSS at max (MB)", "steps", "valid", "run"]  # fmt: skip
    body = []
    for r in rows:
        tp = f", tp {r['threadpool']}" if r.get("threadpool") is not None else ""
        link = (
            f'<a href="{html.escape(r["run_dir_at_max"])}/report.html">report</a>'
            if r.get("run_dir_at_max")
            else "–"
        )
        valid = (
            "yes"
            if r["valid"]
            else f'<span class="invalid">no: {html.escape(str(r["invalid_reason"]))}</span>'
        )
        body.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in [
                    html.escape(f"{r['workers']} × {r['server']}, {r['loop']}{tp}"),
                    _fmt(r.get("max_rate_rps"), "g"),
                    _fmt(r.get("p99_ms_at_max")),
                    _fmt(r.get("cpu_pct_at_max"), ".0f"),
                    _fmt(r.get("rss_mb_at_max"), ".0f"),
                    str(r.get("steps")),
                    valid,
                    link,
                ]
            )
            + "</tr>"
        )
    slos = ", ".join(plan.get("slos", []))
    app = html.escape(str(plan.get("app")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lagscope sweep: {app}</title>
<style>{CSS}{STYLE}</style></head><body><main>
<h1>Worker sweep: {app}</h1>
<p class="advice" id="recommendation">{html.escape(advice)}</p>
<p>Highest arrival rate each configuration sustained with {html.escape(slos)}
(steps of {plan.get("step_s")} s, open-model load). Machine: {machine.get("cpu_count")} cores,
{machine.get("memory_gb")} GB, {html.escape(str(machine.get("platform")))}.</p>
<table id="results"><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr>{"".join(body)}</table>
<figure id="chart-rate">{_chart(rows, "max_rate_rps", "max sustainable rate (req/s)")}</figure>
<figure id="chart-p99">{_chart(rows, "p99_ms_at_max", "P99 at that rate (ms)")}</figure>
</main></body></html>
"""
