"""The short summary ``lagscope run`` prints: percentile table, loop figures, findings."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from reports.renderers.tables import HEADERS, loop_line, percentile_rows


def print_summary(summary: dict[str, Any], *, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not wrap at rich's default 80
            console = Console(width=140)
    table = Table(title="Latency (ms, exact, steady window)", title_justify="left")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in percentile_rows(summary["requests"]):
        table.add_row(*row)
    console.print(table)
    console.print(loop_line(summary["loop"]), highlight=False)
    if not summary["diagnosis"]:
        console.print("[green]No findings.[/green]")
    for finding in summary["diagnosis"]:
        colour = "red" if finding["severity"] == "critical" else "yellow"
        console.print(
            f"[{colour}]{finding['severity'].upper()}[/{colour}] {finding['kind']} "
            f"at [bold]{finding['location']}[/bold]",
            highlight=False,
        )
        console.print(f"  {finding['summary']}", highlight=False)
        console.print(f"  evidence: {finding['evidence']}", highlight=False)
        console.print(f"  remedy: {finding['remedy']}", highlight=False)
    safety = summary.get("safety") or {}
    if safety.get("cap_hit"):
        console.print(
            f"[red]memory cap of {safety['memory_cap_mb']:g} MB hit[/red] by worker(s) "
            f"{', '.join(safety['workers_at_cap'])}: seeded leaks stopped growing there",
            highlight=False,
        )
    console.print(f"run directory: {summary['run']['dir']}", highlight=False)
