"""The openapi scenario's coverage as text lines (terminal, Markdown) and as a table (HTML)."""

from __future__ import annotations

from lagscope.reports.summary_types import CoverageSection, Summary
from lagscope.reports.wording import plural

HEADERS = ["operation", "requests", "2xx", "3xx", "4xx", "5xx", "no answer", "linked"]
MOSTLY = 0.5  # an operation with fewer 2xx answers than this share is named
NAMED = 6  # operations named on one line at most


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:NAMED])
    return shown + (f" and {len(keys) - NAMED} more" if len(keys) > NAMED else "")


def coverage_of(summary: Summary) -> CoverageSection | None:
    """The openapi scenario's coverage, None for another scenario (or an older summary)."""
    scenario = summary.get("scenario")
    return None if scenario is None else scenario["coverage"]


def coverage_lines(cov: CoverageSection | None) -> list[str]:
    """One headline and a line per kind of gap; [] when the run had no openapi plan."""
    if not cov:
        return []
    ops = cov["operations"]
    total = sum(op["requests"] for op in ops.values())
    classes = [
        f"{name} {_share(sum(op[name] for op in ops.values()), total)}"
        for name in ("2xx", "3xx", "4xx", "5xx", "no_response")
        if any(op[name] for op in ops.values())
    ]
    answers = f" (answers {', '.join(classes)})" if classes else ""
    skipped = cov["skipped"]
    lines = [
        f"openapi: {plural(cov['found'], 'operation')} in the schema, {cov['exercised']} "
        f"exercised{answers}, {len(skipped)} skipped"
    ]
    choice = cov.get("choice")  # absent from summaries written before it was
    if choice:
        lines.append(f"  sent without --methods: {choice}")
    held = [s["key"] for s in skipped if "--methods" in s["reason"]]
    if held:
        methods = ",".join(dict.fromkeys(key.split(" ")[0] for key in held))
        lines.append(f"  not sent without --methods {methods}: {_names(held)}")
    reasons: dict[str, list[str]] = {}
    for s in skipped:
        if "--methods" not in s["reason"]:
            reasons.setdefault(s["reason"], []).append(s["key"])
    lines += [f"  skipped {_names(keys)}: {reason}" for reason, keys in reasons.items()]
    if cov["not_exercised"]:
        lines.append(f"  planned but never sent: {_names(cov['not_exercised'])}")
    poor = [
        f"{key} ({op['2xx']} of {op['requests']} 2xx)"
        for key, op in ops.items()
        if op["requests"] and op["2xx"] < MOSTLY * op["requests"]
    ]
    if poor:
        lines.append(f"  mostly not 2xx: {_names(poor)}")
    return lines


def coverage_rows(cov: CoverageSection) -> list[list[str]]:
    """One row per operation: exercised ones with their answers, skipped ones with why."""
    rows = [
        [key, str(op["requests"]), *(str(op[c]) for c in ("2xx", "3xx", "4xx", "5xx")),
         str(op["no_response"]), ", ".join(op["linked"]) or "–"]
        for key, op in cov["operations"].items()
    ]  # fmt: skip
    rows += [[s["key"], "skipped: " + s["reason"], "", "", "", "", "", ""] for s in cov["skipped"]]
    return rows
