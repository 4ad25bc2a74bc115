"""``report.html``: one self-contained page — verdict first, then numbers, charts, blockers, config.

Charts are inline SVG; the page loads nothing from the network and opens from a file.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from lagscope.reports.renderers.coverage import HEADERS as COVERAGE_HEADERS
from lagscope.reports.renderers.coverage import coverage_lines, coverage_of, coverage_rows
from lagscope.reports.renderers.gameday import html_section
from lagscope.reports.renderers.open_model import latency_title, sender_lines, uncorrected_row
from lagscope.reports.renderers.slo import SLO_HEADERS, actual_text, culprit_text, failed_names
from lagscope.reports.renderers.tables import HEADERS, loop_line, percentile_rows
from lagscope.reports.summary_types import (
    CoverageSection,
    LoopSection,
    ProfileSection,
    SloSection,
    Summary,
)
from lagscope.reports.wording import change, conditions, plural

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fafafa}
main{max-width:1120px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.facts{color:#555;font-size:13px}
.verdict{border-radius:6px;padding:12px 16px;margin:14px 0;font-size:17px}
.verdict.critical{background:#fde8e4;border-left:6px solid #c0392b}
.verdict.warning{background:#fff4dc;border-left:6px solid #d68910}
.verdict.ok{background:#e6f4ea;border-left:6px solid #1e8449}
.finding{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 14px;margin:8px 0}
.finding .sev{font-weight:700;text-transform:uppercase;font-size:12px;letter-spacing:.05em}
.critical .sev{color:#c0392b}.warning .sev{color:#b9770e}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.loc{background:#fff0d6;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
.pass{color:#1e8449;font-weight:600}.fail{color:#c0392b;font-weight:600}
.selfcheck{background:#fff8e1;border:1px solid #f0c36d;padding:6px 12px;margin:6px 0;
border-radius:4px}
figure.chart{margin:10px 0;background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:4px}
figure.chart svg{width:100%;height:auto}
figcaption{font-size:13px;color:#555;padding:0 8px 4px}
pre{background:#fff;border:1px solid #e3e3e3;padding:8px;overflow-x:auto}
"""


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} ms"


def verdict(summary: Summary) -> tuple[str, str]:
    """(css class, one sentence): the worst finding, a failed SLO, or all clear."""
    findings = summary.get("diagnosis") or []
    slo = summary.get("slo")
    if findings:
        worst = findings[0]
        return worst["severity"], f"{worst['severity'].capitalize()}: {worst['summary']}"
    if slo and not slo["passed"]:
        return "critical", f"SLO failed: {', '.join(failed_names(slo))}."
    agg = summary["requests"]["aggregate"]
    return "ok", f"No findings. P99 {_ms(agg.get('p99_ms'))} over {agg['count']:,} requests."


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose(text: str) -> str:
    """``text`` as HTML: escaped, and its `code spans` (as the findings write them) in
    <code>, as the Markdown report shows them."""
    return _CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def _findings(summary: Summary) -> list[str]:
    out = []
    for f in summary.get("diagnosis") or []:
        out.append(
            f'<div class="finding {escape(f["severity"])}"><span class="sev">'
            f"{escape(f['severity'])}</span> {escape(f['kind'])} at "
            f'<code class="loc">{escape(str(f.get("location")))}</code>'
            f"<p>{prose(f['summary'])}</p><p><b>Evidence:</b> {prose(f['evidence'])}</p>"
            f"<p><b>Remedy:</b> {prose(f['remedy'])}</p></div>"
        )
    return out


def _table(headers: list[str], rows: list[list[str]], *, table_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _slo(slo: SloSection | None) -> list[str]:
    if not slo:
        return []
    rows = [
        [escape(c["name"]), escape(c["target"]), escape(actual_text(c)),
         '<span class="pass">pass</span>' if c["passed"] else '<span class="fail">FAIL</span>',
         escape(culprit_text(c) or "–")]
        for c in slo["checks"]
    ]  # fmt: skip
    state = (
        '<span class="pass">passed</span>' if slo["passed"] else '<span class="fail">failed</span>'
    )
    return [f"<h2>SLOs: {state}</h2>",
            _table(SLO_HEADERS, rows, table_id="slo")]  # fmt: skip


def _profile(profile: ProfileSection | None) -> list[str]:
    if not profile:
        return []
    over = profile["overhead"]
    drop = over.get("throughput_drop")
    links = " ".join(
        f'<a href="{escape(f["html"])}">profile of worker {f["pid"]} (HTML)</a> · '
        f'<a href="{escape(f["speedscope"])}">speedscope JSON</a>'
        for f in profile["files"]
    )
    req = profile["requests"]
    return [
        '<h2 id="profile">Profile</h2>',
        f"<p>pyinstrument ran for {profile['seconds']:.1f} s. {links}</p>",
        f"<p>The {req['count']:,} requests that overlapped the profiled window are left out of "
        "the figures above (they ran slower because of the profiler): "
        f"their P50 {_ms(req.get('p50_ms'))}, P99 {_ms(req.get('p99_ms'))}.</p>",
        f'<p id="profile-overhead">Measured profiler overhead: throughput '
        f"{over.get('rps_inside')} req/s inside the window vs {over.get('rps_outside')} req/s "
        f"outside ({'n/a' if drop is None else change(-drop)} inside); "
        f"P50 {_ms(over.get('p50_ms_inside'))} inside vs {_ms(over.get('p50_ms_outside'))} "
        f"outside; target CPU per request {_cpu(over.get('cpu_ms_per_request_inside'))} inside "
        f"vs {_cpu(over.get('cpu_ms_per_request_outside'))} outside.</p>",
    ]


def _cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def _blockers(loop: LoopSection) -> list[str]:
    out = ['<h2 id="blockers">Top blockers</h2>', f"<p>{escape(loop_line(loop))}</p>"]
    if not loop["top_blockers"]:
        return [*out, "<p>No stalls in the steady window.</p>"]
    for b in loop["top_blockers"][:5]:
        out.append(
            f'<h3><code class="loc">{escape(b["location"])}</code> {escape(str(b["function"]))}'
            f" — {plural(b['count'], 'stall')}, {b['total_ms']:,.0f} ms total, "
            f"worst {b['max_ms']:,.0f} ms "
            f"({escape(str(b['cause']))}, {escape(str(b['endpoint'] or 'no endpoint'))})</h3>"
            + (
                f"<p>The collector paused the loop; the line that ran next, which the stack "
                f'shows, is context: <code class="loc">{escape(b["context"])}</code></p>'
                if b.get("context")
                else ""
            )
            + f"<pre>{escape(chr(10).join(b['stack']))}</pre>"
        )
    return out


CAPTIONS = {
    "latency": "Latency percentiles per second (exact). Shaded grey: the steady window; "
    "pink: the profiled window (its requests are left out of the table).",
    "throughput": "Requests sent per second and failed requests per second.",
    "loop-lag": "Worst heartbeat lag per half second per worker; ▼ every stall of the whole run "
    "(height: duration; the figures above count the steady window only); ◆ every garbage "
    "collection at least as long as the stall threshold (height: its pause).",
    "resources": "RSS, CPU and open file descriptors of every process.",
    "gauges": "The app's gauges, per worker (whatever the probe recorded).",
}


OPEN_MODEL_CAPTIONS = {
    "latency": CAPTIONS["latency"] + " Solid lines count from each request's intended send "
    "time (corrected); the dashed line, drawn when it differs, is P99 from the actual send.",
}


def _latency(summary: Summary) -> list[str]:
    """The percentile table and, in rate mode, the uncorrected row and how the plan was kept."""
    rows = percentile_rows(summary["requests"])
    uncorrected = uncorrected_row(summary)
    if uncorrected is not None:
        rows.append(uncorrected)
    cells = [[escape(cell) for cell in row] for row in rows]  # endpoint names are the app's
    out = [f"<h2>{escape(latency_title(summary))}</h2>",
           _table(HEADERS, cells, table_id="percentiles")]  # fmt: skip
    lines = sender_lines(summary)
    if lines:
        out.append('<section id="open-model">')
        out += [
            f'<p class="{"selfcheck" if level == "warning" else "info"}">'
            f"{'⚠ ' if level == 'warning' else ''}{escape(text)}</p>"
            for level, text in lines
        ]
        out.append("</section>")
    return out


def _coverage(cov: CoverageSection | None) -> list[str]:
    """Which operations the openapi scenario exercised, how they answered, which it skipped."""
    if not cov:
        return []
    lines = coverage_lines(cov)
    rows = [[escape(cell) for cell in row] for row in coverage_rows(cov)]
    return [
        '<section id="coverage"><h2>Coverage (openapi scenario)</h2>',
        f"<p>{escape(lines[0])}</p>",
        *(f'<p class="info">{escape(line.strip())}</p>' for line in lines[1:]),
        _table(COVERAGE_HEADERS, rows, table_id="coverage-table"),
        "</section>",
    ]


SECRET_KEYS = {"token"}  # run.json's admin token switched faults during the run


def redacted(value: Any) -> Any:
    """``value`` with every secret (a ``token`` key at any depth) replaced: a report is shared."""
    if isinstance(value, dict):
        return {k: "<redacted>" if k in SECRET_KEYS else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def render_html(
    summary: Summary,
    charts: dict[str, str],
    *,
    config: dict[str, Any] | None = None,
    gameday_svg: str | None = None,
) -> str:
    """The page; ``charts`` maps chart id → inline SVG (from lagscope.reports.renderers.charts)."""
    run, window = summary["run"], summary["window"]
    css_class, sentence = verdict(summary)
    faults = ", ".join(run.get("faults") or []) or "none"
    if run.get("conditions"):
        faults += f" ({conditions(run['conditions'])})"
    body = [
        f"<h1>lagscope: {escape(str(run.get('app')))} / {escape(str(run.get('scenario')))}</h1>",
        f'<div class="facts">faults: {escape(faults)} · workers: {run.get("workers")} · loop: '
        f"{escape(', '.join(map(str, run['loop'])))} · outcome: {escape(str(run.get('outcome')))}"
        f" · steady window {window['seconds']:.1f} s ({escape(window['basis'])})</div>",
        f'<div id="verdict" class="verdict {css_class}">{escape(sentence)}</div>',
        *(f'<div class="selfcheck">⚠ {escape(w["message"])}</div>'
          for w in summary.get("self_checks") or []),
        '<section id="findings">', *_findings(summary), "</section>",
        *_slo(summary.get("slo")),
        *(html_section(summary["gameday"], gameday_svg) if gameday_svg else []),
        *_latency(summary),
        *_coverage(coverage_of(summary)),
        "<h2>Charts</h2>",
    ]  # fmt: skip
    captions = CAPTIONS | (OPEN_MODEL_CAPTIONS if summary.get("open_model") else {})
    for chart_id, svg in charts.items():
        body.append(
            f'<figure class="chart" id="chart-{chart_id}">{svg}'
            f"<figcaption>{escape(captions.get(chart_id, chart_id))}</figcaption></figure>"
        )
    body += _profile(summary.get("profile"))
    body += _blockers(summary["loop"])
    shown = json.dumps(redacted(config or {}), indent=2, default=str)
    body += ['<h2 id="config">Run configuration</h2>', f"<pre>{escape(shown)}</pre>"]
    title = f"lagscope — {run.get('app')} — {sentence[:80]}"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )
