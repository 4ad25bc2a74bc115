"""The session's stalls, per location and per test, worst first: the terminal section and
the JSON file for CI.  Pure functions of the tests' verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lagscope.harness.testing.verdict import (
    Stall,
    Verdict,
    by_location,
    location,
    machine_text,
    unsampled_text,
)


@dataclass(frozen=True)
class TestResult:
    """A watched test that stalled: its id, its outcome as reported, its verdict."""

    __test__ = False  # not a test class, whatever pytest makes of the name

    nodeid: str
    outcome: str
    verdict: Verdict


def locations(results: list[TestResult]) -> list[dict[str, Any]]:
    """Every blamed location over the session (allowed stalls apart), worst stall first."""
    tests: dict[str, set[str]] = {}
    stalls: list[Stall] = []
    for result in results:
        for stall in result.verdict.stalls:
            stalls.append(stall)
            tests.setdefault(location(stall), set()).add(result.nodeid)
    rows = []
    for group in by_location(stalls):
        worst = group[0]
        rows.append(
            {
                "location": location(worst),
                "function": worst.get("function"),
                "cause": worst.get("cause"),
                "stalls": len(group),
                "tests": len(tests[location(worst)]),
                "total_ms": round(sum(float(s["duration_ms"]) for s in group), 3),
                "worst_ms": round(float(worst["duration_ms"]), 3),
            }
        )
    return rows


def _worst_ms(result: TestResult) -> float:
    return max(float(s["duration_ms"]) for s in result.verdict.stalls)


def summary_lines(results: list[TestResult]) -> list[str]:
    """The terminal section's lines (under ``title``): locations, then tests, worst first;
    then the allowed and the unsampled stalls."""
    stalled = sorted((r for r in results if r.verdict.stalls), key=_worst_ms, reverse=True)
    lines = []
    if stalled:
        lines.append("by location, worst stall first:")
        for row in locations(results):
            function = f" ({row['function']})" if row["function"] else ""
            plural = "s" if row["stalls"] != 1 else ""
            lines.append(
                f"  {row['worst_ms']:7,.0f} ms  {row['cause'] or '?':4}  {row['location']}"
                f"{function}: {row['stalls']} stall{plural}, {row['total_ms']:,.0f} ms, "
                f"in {row['tests']} test{'s' if row['tests'] != 1 else ''}"
            )
        lines.append("by test, worst stall first:")
        for result in stalled:
            where = sorted({location(s) for s in result.verdict.stalls})
            lines.append(
                f"  {_worst_ms(result):7,.0f} ms  {result.outcome.upper():6}  {result.nodeid}: "
                f"{len(result.verdict.stalls)} at {', '.join(where)}"
            )
    allowed = [r for r in results if r.verdict.allowed]
    for result in allowed:
        where = sorted({location(s) for s in result.verdict.allowed})
        count = len(result.verdict.allowed)
        lines.append(f"  allowed: {result.nodeid}: {count} at {', '.join(where)}")
    for result in (r for r in results if r.verdict.unsampled):
        lines.append(f"  {result.nodeid}: {unsampled_text(result.verdict)}")
    for result in (r for r in results if r.verdict.machine):
        lines.append(f"  {result.nodeid}: {machine_text(result.verdict)}")
    return lines


def title(results: list[TestResult], *, watched: int, threshold_ms: float) -> str:
    stalled = sum(1 for r in results if r.verdict.stalls)
    tests = f"{watched} watched async test{'s' if watched != 1 else ''}"
    if stalled:
        return f"lagscope: {stalled} of {tests} stalled the event loop over {threshold_ms:g} ms"
    if results:
        return f"lagscope: {tests}, no stall to judge over {threshold_ms:g} ms"
    return f"lagscope: {tests}, none stalled the event loop over {threshold_ms:g} ms"


def as_json(
    results: list[TestResult], *, watched: int, threshold_ms: float, mode: str
) -> dict[str, Any]:
    """The JSON file for CI: the settings, every stalled test with its stall events (as in
    stalls.jsonl), and the locations' totals."""
    return {
        "threshold_ms": threshold_ms,
        "mode": mode,
        "watched": watched,
        "stalled": sum(1 for r in results if r.verdict.stalls),
        "tests": [
            {"nodeid": r.nodeid, "outcome": r.outcome, **r.verdict.as_json()} for r in results
        ],
        "locations": locations(results),
    }
