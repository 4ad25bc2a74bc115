"""``lagscope compare``: overlaid charts, the HTML page and the terminal table of two runs."""

from __future__ import annotations

from html import escape
from typing import Any

from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from reports.compare import format_delta, format_value
from reports.renderers.charts import PALETTE, XLABEL, new_figure
from reports.renderers.html import CSS
from reports.series import Series

Line = tuple[str, Any, Any, str, int]  # label, x, y, line style, run index (colour)


def _overlay(title: str, ylabel: str, lines: list[Line]) -> Figure:
    fig, (ax,) = new_figure()  # the report's fixed margins: the charts line up
    for label, x, y, style, run in lines:
        ax.plot(x, y, style, color=PALETTE[run % len(PALETTE)], lw=1.5, label=label)
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_xlabel(XLABEL)
    ax.grid(True, alpha=0.3)
    if lines:
        ax.legend(loc="upper right", fontsize="small", ncols=2)
    return fig


def compare_charts(a: tuple[str, Series], b: tuple[str, Series]) -> dict[str, Figure]:
    """Latency (P50 dashed, P99 solid), throughput and loop lag of both runs, overlaid."""
    latency: list[Line] = []
    rps: list[Line] = []
    lag: list[Line] = []
    for i, (label, s) in enumerate((a, b)):
        r = s.requests
        latency += [(f"{label} P99", r["second"], r["p99_ms"], "-", i),
                    (f"{label} P50", r["second"], r["p50_ms"], "--", i)]  # fmt: skip
        rps += [(f"{label} requests", r["second"], r["count"], "-", i),
                (f"{label} errors", r["second"], r["errors"], ":", i)]  # fmt: skip
        if not s.lag.empty:
            worst = s.lag.groupby("second")["lag_max_ms"].max()
            lag.append((label, worst.index, worst.to_numpy(), "-", i))
    return {
        "latency": _overlay("Latency per second", "ms", latency),
        "throughput": _overlay("Requests and errors per second", "per second", rps),
        "loop-lag": _overlay("Worst loop lag per half second (all workers)", "ms", lag),
    }


def _finding_list(findings: list[dict[str, Any]], list_id: str) -> str:
    if not findings:
        return f'<ul id="{list_id}"><li>none</li></ul>'
    items = "".join(
        f"<li><b>{escape(f['severity'])}</b> {escape(f['kind'])} at "
        f'<code class="loc">{escape(str(f.get("location")))}</code>: {escape(f["summary"])}</li>'
        for f in findings
    )
    return f'<ul id="{list_id}">{items}</ul>'


def render_compare_html(result: dict[str, Any], charts: dict[str, str]) -> str:
    a, b = result["a"], result["b"]
    faults_a = escape(", ".join(a["faults"]) or "none")
    faults_b = escape(", ".join(b["faults"]) or "none")
    rows = "".join(
        f"<tr><td>{escape(r['name'])}</td><td>{format_value(r['a'], r['unit'])}</td>"
        f"<td>{format_value(r['b'], r['unit'])}</td><td>{escape(format_delta(r))}</td></tr>"
        for r in result["headlines"]
    )
    body = [
        "<h1>lagscope compare</h1>",
        f"<p><b>A</b>: {escape(a['dir'])} (faults: {faults_a})"
        f"<br><b>B</b>: {escape(b['dir'])} (faults: {faults_b})</p>",
        '<table id="headlines"><thead><tr><th>figure</th><th>A</th><th>B</th><th>B − A</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>",
        "<h2>Findings only in A (gone in B)</h2>",
        _finding_list(result["findings"]["only_a"], "only-a"),
        "<h2>Findings only in B (new in B)</h2>",
        _finding_list(result["findings"]["only_b"], "only-b"),
        "<h2>Findings in both</h2>",
        _finding_list(result["findings"]["both"], "both"),
        "<h2>Charts</h2>",
        *(f'<figure class="chart" id="chart-{k}">{svg}</figure>' for k, svg in charts.items()),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>lagscope compare</title>"
        f"<style>{CSS}</style></head><body><main>" + "\n".join(body) + "</main></body></html>\n"
    )


def print_compare(result: dict[str, Any], *, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="A vs B (steady window)", title_justify="left")
    for header in ("figure", "A", "B", "B − A"):
        table.add_column(header, justify="left" if header == "figure" else "right")
    for r in result["headlines"]:
        table.add_row(r["name"], format_value(r["a"], r["unit"]), format_value(r["b"], r["unit"]),
                      format_delta(r))  # fmt: skip
    console.print(f"A: {result['a']['dir']}\nB: {result['b']['dir']}", highlight=False)
    console.print(table)
    for key, label in (("only_a", "only in A (gone in B)"), ("only_b", "only in B (new in B)")):
        for f in result["findings"][key]:
            console.print(
                f"{label}: {f['severity'].upper()} {f['kind']} at {f['location']}",
                highlight=False,
                soft_wrap=True,
            )  # fmt: skip (one line, for grep)
        if not result["findings"][key]:
            console.print(f"{label}: no findings", highlight=False)
