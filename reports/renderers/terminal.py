"""The short summary ``lagscope run`` prints: percentile table, loop figures, findings."""

from __future__ import annotations

from lagscope.reports.renderers.coverage import coverage_lines, coverage_of
from lagscope.reports.renderers.gameday import print_gameday
from lagscope.reports.renderers.open_model import latency_title, sender_lines, uncorrected_row
from lagscope.reports.renderers.slo import check_line
from lagscope.reports.renderers.tables import (
    HEADERS,
    injected_lines,
    interruption_line,
    loop_line,
    percentile_rows,
)
from lagscope.reports.summary_types import Summary
from lagscope.reports.wording import conditions, named
from rich.console import Console
from rich.table import Table
from rich.text import Text


def print_summary(summary: Summary, *, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not wrap at rich's default 80
            console = Console(width=140, soft_wrap=True)  # a line per line: grep-able
    interrupted = interruption_line(summary["run"])
    if interrupted is not None:
        console.print(f"[yellow]{interrupted}[/yellow]", highlight=False)
    if summary["run"].get("conditions"):
        console.print(f"conditions: {conditions(summary['run']['conditions'])}", highlight=False)
    title = latency_title(summary)
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in percentile_rows(summary["requests"]):
        table.add_row(*row)
    uncorrected = uncorrected_row(summary)
    if uncorrected is not None:
        table.add_row(*uncorrected, style="dim")
    console.print(table)
    for level, line in sender_lines(summary):
        console.print(line if level == "info" else f"[yellow]WARNING[/yellow] {line}",
                      highlight=False)  # fmt: skip
    for line in coverage_lines(coverage_of(summary)):
        console.print(line, highlight=False, soft_wrap=True)
    console.print(loop_line(summary["loop"]), highlight=False)
    for line in injected_lines(summary):
        console.print(f"[magenta]injected:[/magenta] {line}", highlight=False)
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
    for warning in summary.get("self_checks") or []:
        console.print(f"[yellow]self-check:[/yellow] {warning['message']}", highlight=False)
    profile = summary.get("profile")
    if profile:
        over = profile["overhead"]
        console.print(
            f"profiled {profile['seconds']:.1f} s: {profile['requests']['count']} requests left "
            f"out of the table; throughput {over['rps_inside']} req/s under the profiler vs "
            f"{over['rps_outside']} req/s without; target CPU per request "
            f"{over.get('cpu_ms_per_request_inside')} ms vs "
            f"{over.get('cpu_ms_per_request_outside')} ms",
            highlight=False,
        )
    slo = summary.get("slo")
    for check in slo["checks"] if slo else []:
        text = Text(f"SLO {check_line(check)}")
        at = len(f"SLO {check['name']}: ")  # the verdict word, pass or FAIL, coloured
        text.stylize("green" if check["passed"] else "bold red", at, at + 4)
        console.print(text, highlight=False, soft_wrap=True)
    safety = summary.get("safety") or {}
    if safety.get("cap_hit"):
        console.print(
            f"[red]memory cap of {safety['memory_cap_mb']:g} MB hit[/red] by "
            f"{named('worker', [str(w) for w in safety['workers_at_cap']])}: "
            "seeded leaks stopped growing there",
            highlight=False,
        )
    if summary.get("gameday", {}).get("started"):
        print_gameday(summary["gameday"], console=console)
    console.print(f"run directory: {summary['run']['dir']}", highlight=False)
    console.print(f"report: {summary['run']['dir']}/report.html", highlight=False)
