"""``lagscope compare``: overlaid charts, the HTML page and the terminal table of two runs."""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from lagscope.reports.compare import Comparison, Row
from lagscope.reports.renderers.charts import PALETTE, XLABEL, new_figure
from lagscope.reports.renderers.html import CSS
from lagscope.reports.series import Series
from lagscope.reports.summary_types import Finding, RunSection
from lagscope.reports.wording import NO_VALUE, change, delta, plural, quantity
from matplotlib.figure import Figure
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table

# The figure's name, second after the endpoint cell that spans its rows, reads left-aligned.
STYLE = "#endpoints th:nth-child(2),#endpoints td.figure{text-align:left}"
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


def delta_text(row: Row) -> str:
    """``+362 ms (+258%)``; a change of a percentage in points: ``+3.2 pp (+11%)``."""
    if row["delta"] is None:
        return NO_VALUE
    ratio = f" ({change(row['ratio'])})" if row["ratio"] is not None else ""
    return delta(row["delta"], row["unit"]) + ratio


def _cells(row: Row) -> list[str]:
    """A row's A, B and B − A, as text."""
    return [quantity(row["a"], row["unit"]), quantity(row["b"], row["unit"]), delta_text(row)]


def _run_line(label: str, run: RunSection) -> str:
    faults = ", ".join(run.get("faults") or []) or "none"
    return f"{label}: {run['dir']} (faults: {faults})"


def endpoints_note(result: Comparison) -> str:
    """Under the per-endpoint table: what it shows and what it leaves out."""
    mix = result["mix"]
    left = len(mix["only_a"]) + len(mix["only_b"])
    shown = f"{plural(len(result['endpoints']), 'endpoint')} served in both runs"
    return shown + (f"; {left} served in one run only (see the warning)" if left else "")


def _finding_list(findings: list[Finding], list_id: str) -> str:
    if not findings:
        return f'<ul id="{list_id}"><li>none</li></ul>'
    items = "".join(
        f"<li><b>{escape(f['severity'])}</b> {escape(f['kind'])} at "
        f'<code class="loc">{escape(str(f.get("location")))}</code>: {escape(f["summary"])}</li>'
        for f in findings
    )
    return f'<ul id="{list_id}">{items}</ul>'


def _endpoint_table(result: Comparison) -> str:
    body = []
    for group in result["endpoints"]:
        rows = group["rows"]
        for i, r in enumerate(rows):
            name = (
                f'<td rowspan="{len(rows)}"><code>{escape(group["endpoint"])}</code></td>'
                if i == 0
                else ""
            )
            cells = "".join(f"<td>{escape(c)}</td>" for c in _cells(r))
            body.append(f"<tr>{name}<td class=figure>{escape(r['name'])}</td>{cells}</tr>")
    return (
        '<table id="endpoints"><thead><tr><th>endpoint</th><th>figure</th><th>A</th><th>B</th>'
        f"<th>B − A</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"<p>{escape(endpoints_note(result))}</p>"
    )


def render_compare_html(result: Comparison, charts: dict[str, str]) -> str:
    a, b = result["a"], result["b"]
    rows = "".join(
        f"<tr><td>{escape(r['name'])}</td>"
        + "".join(f"<td>{escape(c)}</td>" for c in _cells(r))
        + "</tr>"
        for r in result["headlines"]
    )
    warnings = "".join(
        f'<div class="selfcheck" data-kind="{escape(w["kind"])}">⚠ {escape(w["message"])}</div>'
        for w in result["warnings"]
    )
    body = [
        "<h1>lagscope compare</h1>",
        f"<p>{escape(_run_line('A', a))}<br>{escape(_run_line('B', b))}</p>",
        f'<section id="warnings">{warnings}</section>',
        "<h2>All requests (steady window)</h2>",
        '<table id="headlines"><thead><tr><th>figure</th><th>A</th><th>B</th><th>B − A</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>",
        "<h2>Per endpoint (steady window)</h2>",
        _endpoint_table(result),
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
        f"<style>{CSS}{STYLE}</style></head><body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def _table(title: str, headers: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i >= len(headers) - 3 else "left")
    return table


def print_compare(result: Comparison, *, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not wrap at rich's default 80
            console = Console(width=140)
    for label, run in (("A", result["a"]), ("B", result["b"])):
        console.print(escape_markup(_run_line(label, run)), highlight=False, soft_wrap=True)
    for w in result["warnings"]:  # one line each, for grep
        line = f"[yellow]WARNING[/yellow] {escape_markup(w['message'])}"
        console.print(line, highlight=False, soft_wrap=True)
    headlines = _table("A vs B, all requests (steady window)", ["figure", "A", "B", "B − A"])
    for r in result["headlines"]:
        headlines.add_row(r["name"], *_cells(r))
    console.print(headlines)
    if result["endpoints"]:
        per = _table(
            "A vs B per endpoint (steady window)", ["endpoint", "figure", "A", "B", "B − A"]
        )
        for group in result["endpoints"]:
            last = len(group["rows"]) - 1
            for i, r in enumerate(group["rows"]):
                name = escape_markup(group["endpoint"]) if i == 0 else ""
                per.add_row(name, r["name"], *_cells(r),
                            end_section=i == last)  # fmt: skip
        console.print(per)
    console.print(endpoints_note(result), highlight=False)
    sides: list[tuple[Literal["only_a", "only_b"], str]] = [
        ("only_a", "only in A (gone in B)"), ("only_b", "only in B (new in B)"),
    ]  # fmt: skip
    for key, label in sides:
        for f in result["findings"][key]:
            console.print(
                f"{label}: {f['severity'].upper()} {f['kind']} at {f['location']}",
                highlight=False,
                soft_wrap=True,
            )  # fmt: skip (one line, for grep)
        if not result["findings"][key]:
            console.print(f"{label}: no findings", highlight=False)
