"""``report.md``: the summary as Markdown."""

from __future__ import annotations

from lagscope.reports.renderers.coverage import HEADERS as COVERAGE_HEADERS
from lagscope.reports.renderers.coverage import coverage_lines, coverage_of, coverage_rows
from lagscope.reports.renderers.gameday import markdown_section
from lagscope.reports.renderers.open_model import latency_title, sender_lines, uncorrected_row
from lagscope.reports.renderers.slo import SLO_HEADERS, actual_text, culprit_text
from lagscope.reports.renderers.tables import (
    HEADERS,
    injected_lines,
    interruption_line,
    loop_line,
    percentile_rows,
)
from lagscope.reports.summary_types import Summary
from lagscope.reports.wording import conditions, named


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(summary: Summary) -> str:
    run, window, loop = summary["run"], summary["window"], summary["loop"]
    faults = ", ".join(run.get("faults") or []) or "none"
    if run.get("conditions"):
        faults += f" ({conditions(run['conditions'])})"
    interrupted = interruption_line(run)
    out = [
        f"# lagscope run: {run.get('app')} / {run.get('scenario')}",
        "",
        f"Faults: {faults}. Workers: {run.get('workers')}, "
        f"loop: {', '.join(map(str, run['loop']))}. "
        f"Outcome: {run.get('outcome')}. Window: {window['seconds']:.1f} s ({window['basis']}).",
        "",
        *([interrupted, ""] if interrupted else []),
        *[f"Injected: {line}." for line in injected_lines(summary)],
        *([""] if summary.get("injected") else []),
        "## Diagnosis",
        "",
    ]
    if not summary["diagnosis"]:
        out.append("No findings.")
    for finding in summary["diagnosis"]:
        out += [
            f"### {finding['severity'].upper()}: {finding['kind']} at `{finding['location']}`",
            "",
            finding["summary"],
            "",
            f"- Evidence: {finding['evidence']}",
            f"- Remedy: {finding['remedy']}",
            "",
        ]
    slo = summary.get("slo")
    if slo:
        out += [f"## SLOs: {'passed' if slo['passed'] else 'failed'}", ""]
        out += _table(SLO_HEADERS, [
            [c["name"], c["target"], actual_text(c), "pass" if c["passed"] else "**FAIL**",
             culprit_text(c) or "–"]
            for c in slo["checks"]
        ]) + [""]  # fmt: skip
    safety = summary.get("safety") or {}
    if safety.get("cap_hit"):
        out += [
            f"**Memory cap of {safety['memory_cap_mb']:g} MB hit** by "
            f"{named('worker', [str(w) for w in safety['workers_at_cap']])}: "
            "seeded leaks stopped growing there.",
            "",
        ]
    out += ["", f"## {latency_title(summary)}", ""]
    uncorrected = uncorrected_row(summary)
    out += _table(
        HEADERS, percentile_rows(summary["requests"]) + ([uncorrected] if uncorrected else [])
    )
    out += [""] + [
        line if level == "info" else f"**Warning:** {line}" for level, line in sender_lines(summary)
    ]
    cov = coverage_of(summary)
    if cov:
        head, *gaps = coverage_lines(cov)
        out += [
            "",
            "## Coverage (openapi scenario)",
            "",
            head,
            "",
            *(f"- {g.strip()}" for g in gaps),
        ]
        out += [""] if gaps else []
        out += _table(COVERAGE_HEADERS, [[f"`{r[0]}`", *r[1:]] for r in coverage_rows(cov)])
    out += ["", "## Event loop", "", loop_line(loop), ""]
    if loop["top_blockers"]:
        out += _table(
            ["location", "function", "endpoint", "cause", "stalls", "total ms", "max ms"],
            [
                [f"`{b['location']}`", str(b["function"]), str(b["endpoint"] or "–"),
                 str(b["cause"]), str(b["count"]), f"{b['total_ms']:.0f}", f"{b['max_ms']:.0f}"]
                for b in loop["top_blockers"]
            ],
        )  # fmt: skip
        worst = loop["top_blockers"][0]
        out += ["", f"Stack of the worst stall at `{worst['location']}`:", "", "```"]
        out += worst["stack"] + ["```"]
    out += ["", "## Resources", ""]
    out += _table(
        ["role", "RSS start MB", "RSS end MB", "RSS peak MB", "CPU mean %", "CPU max %",
         "fds max", "threads max"],
        [
            [role, f"{r['rss_mb_start']:.1f}", f"{r['rss_mb_end']:.1f}", f"{r['rss_mb_peak']:.1f}",
             f"{r['cpu_pct_mean']:.0f}", f"{r['cpu_pct_max']:.0f}", str(r["fds_max"]),
             str(r["threads_max"])]
            for role, r in summary["resources"].items()
        ],
    )  # fmt: skip
    if summary.get("gameday", {}).get("started"):
        at = out.index("## Diagnosis")
        out[at:at] = markdown_section(summary["gameday"])
    return "\n".join(out) + "\n"
