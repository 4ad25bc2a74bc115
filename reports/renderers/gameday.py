"""A game day's section of the outputs: timeline, alerts, detect/mitigate, expectations, runbook."""

from __future__ import annotations

from html import escape

from lagscope.reports.summary_types import AlertFigures, GamedaySection
from rich.console import Console


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def headline(g: GamedaySection) -> str:
    """``time to detect 6 s · time to mitigate 3 s · budget consumed latency 0.4%``."""
    budget = ", ".join(f"{name} {100 * v:.3g}%" for name, v in g["error_budget_consumed"].items())
    return (
        f"time to detect {_seconds(g['time_to_detect_s'])} · "
        f"time to mitigate {_seconds(g['time_to_mitigate_s'])} · "
        f"error budget consumed: {budget or '—'}"
    )


def alert_line(alert: AlertFigures) -> str:
    changes = ", ".join(
        f"{'fired' if c['firing'] else 'resolved'} at {c['at']:g} s" for c in alert["transitions"]
    )
    return (
        f"{alert['name']} ({alert['severity']}, {alert['slo']}: burn > {alert['burn_rate']:g}× "
        f"over {alert['long_window_s']} s and {alert['short_window_s']} s): "
        f"{changes or 'never fired'}"
    )


def markdown_section(g: GamedaySection) -> list[str]:
    out = ["## Game day", "", f"**{g['title']}** — {headline(g)}", ""]
    out += ["![phases, traffic, burn rates and alerts](gameday.png)", ""]
    verdict = "all expectations met" if g["passed"] else "**some expectations failed**"
    out += [f"Verdict: {verdict}.", "", "| phase | role | planned | started | actions |"]
    out.append("|---|---|---|---|---|")
    for p in g.get("phases", []):
        started = "—" if p["started_at"] is None else f"{p['started_at']:g} s"
        out.append(f"| {p['name']} | {p['role'] or ''} | {p['planned_at']:g} s | {started} | "
                   f"{'; '.join(p['actions'])} |")  # fmt: skip
    out += ["", "Alerts:", ""] + [f"- {alert_line(a)}" for a in g["alerts"]]
    out += ["", "| expectation | passed | measured |", "|---|---|---|"]
    out += [f"| {e['text']} | {'yes' if e['passed'] else 'NO'} | {e['actual']} |"
            for e in g["expectations"]]  # fmt: skip
    if g.get("runbook"):
        out += ["", "### Runbook", ""]
        for entry in g["runbook"]:
            out += [f"- **{entry['kind']}** at `{entry['location']}`",
                    f"  - symptom: {entry['symptom']}", f"  - confirm: {entry['confirm']}",
                    f"  - fix: {entry['fix']}"]  # fmt: skip
    return out + [""]


def print_gameday(g: GamedaySection, *, console: Console) -> None:
    console.print(f"[bold]game day: {g['title']}[/bold]", highlight=False)
    console.print(f"  {headline(g)}", highlight=False)
    for alert in g["alerts"]:
        console.print(f"  alert {alert_line(alert)}", highlight=False)
    for e in g["expectations"]:
        mark = "[green]PASS[/green]" if e["passed"] else "[red]FAIL[/red]"
        console.print(f"  {mark} {e['text']} — {e['actual']}", highlight=False)
    for entry in g.get("runbook", []):
        console.print(f"  runbook [{entry['kind']}]: {entry['fix']}", highlight=False, markup=False)


def html_section(g: GamedaySection, svg: str) -> list[str]:
    """The game day's section of ``report.html``: verdict, timeline chart, tables, runbook."""
    verdict = "all expectations met" if g["passed"] else "some expectations failed"
    rows = "".join(
        f"<tr><td>{escape(e['text'])}</td><td class={'pass' if e['passed'] else 'fail'}>"
        f"{'pass' if e['passed'] else 'FAIL'}</td><td>{escape(e['actual'])}</td></tr>"
        for e in g["expectations"]
    )
    runbook = "".join(
        f"<li><b>{escape(r['kind'])}</b> at <code>{escape(str(r['location']))}</code><br>"
        f"symptom: {escape(r['symptom'])}<br>confirm: {escape(r['confirm'])}<br>"
        f"fix: {escape(r['fix'])}</li>"
        for r in g.get("runbook", [])
    )
    return [
        f'<h2 id="gameday">Game day: {escape(g["title"])} — {verdict}</h2>',
        f"<p>{escape(headline(g))}</p>",
        f'<figure class="chart" id="chart-gameday">{svg}<figcaption>Phases shaded (orange: '
        "injection, green: fix; on every chart below too); alert fired (red line) and resolved "
        "(green line); burn rates over each rule's long (solid) and short (dotted) window "
        "against its factor (dashed).</figcaption></figure>",
        "<ul>" + "".join(f"<li>{escape(alert_line(a))}</li>" for a in g["alerts"]) + "</ul>",
        '<table id="expectations"><tr><th>expectation</th><th>result</th><th>measured</th></tr>'
        + rows
        + "</table>",
        *([f"<h3>Runbook</h3><ul>{runbook}</ul>"] if runbook else []),
    ]
