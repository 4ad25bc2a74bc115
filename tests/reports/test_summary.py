"""Composing the summary: game days are diagnosed phase by phase as well as as a whole."""

from __future__ import annotations

from typing import Any

from lagscope.reports.gameday import Timeline
from lagscope.reports.summary import merge_findings, phase_windows


def finding(kind: str, location: str, severity: str = "critical", **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "location": location, "severity": severity, "summary": kind, **extra}


def test_each_phase_runs_from_its_start_to_the_next_phase_or_the_end() -> None:
    timeline = Timeline(t0=1000.0, phases={"warm-up": 0.0, "degrade": 15.0, "fix": 40.0}, end=80.0)
    windows = phase_windows(timeline)
    assert [(name, w.start, w.end) for name, w in windows] == [
        ("warm-up", 1000.0, 1015.0), ("degrade", 1015.0, 1040.0), ("fix", 1040.0, 1080.0)
    ]  # fmt: skip
    assert windows[1][1].basis == "phase degrade"


def test_a_finding_only_a_phase_shows_joins_the_diagnosis_once() -> None:
    whole = [finding("log_flood", "app.py:3", "warning")]
    by_phase = [
        finding("slow_dependency", "POST /orders", phase="degrade"),
        finding("slow_dependency", "POST /orders", phase="fix"),  # the same, later: once
        finding("log_flood", "app.py:3", "warning", phase="degrade"),  # the whole run has it
    ]
    merged = merge_findings(whole, by_phase)
    assert [(f["kind"], f.get("phase")) for f in merged] == [
        ("slow_dependency", "degrade"),  # critical first
        ("log_flood", None),
    ]


def test_without_phase_findings_the_diagnosis_is_unchanged() -> None:
    whole = [finding("server_errors", "POST /orders")]
    assert merge_findings(whole, []) == whole
