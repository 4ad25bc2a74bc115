"""Comparing two summaries: deltas of the headline figures and the findings that differ."""

from __future__ import annotations

from typing import Any

import pytest

from reports.compare import compare, format_delta


def _summary(p99: float, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run": {"dir": "x", "faults": []},
        "requests": {"aggregate": {"count": 100, "rps": 20.0, "failures": 0, "p99_ms": p99}},
        "loop": {"stall_count": len(findings)},
        "resources": {},
        "diagnosis": findings,
    }


BLOCK = {"kind": "event_loop_blocking", "location": "a.py:3", "severity": "critical",
         "summary": "blocked"}  # fmt: skip


def test_compare_names_the_finding_that_disappeared_and_the_p99_change() -> None:
    result = compare(_summary(400.0, [BLOCK]), _summary(100.0, []))
    assert result["findings"]["only_a"] == [BLOCK]
    assert result["findings"]["only_b"] == []
    p99 = next(r for r in result["headlines"] if r["name"] == "P99")
    assert p99["delta"] == -300.0
    assert p99["ratio"] == pytest.approx(-0.75)
    assert format_delta(p99) == "−300 ms (−75%)"  # one minus sign, U+2212


def test_missing_figures_compare_as_unknown() -> None:
    result = compare(_summary(1.0, []), _summary(2.0, []))
    rss = next(r for r in result["headlines"] if r["name"] == "target RSS peak")
    assert rss["delta"] is None
    assert format_delta(rss) == "–"


def test_a_change_of_a_percentage_is_in_points_and_its_ratio_in_percent() -> None:
    a, b = _summary(1.0, []), _summary(1.0, [])
    a["resources"] = {"target": {"cpu_pct_mean": 29.0}}
    b["resources"] = {"target": {"cpu_pct_mean": 32.2}}
    cpu = next(r for r in compare(a, b)["headlines"] if r["name"] == "target CPU mean")
    assert format_delta(cpu) == "+3.2 pp (+11%)"
