"""Comparing two runs: headline figures side by side with deltas, and the findings that differ.

Pure: works on two summaries (``summary.json`` dicts).
"""

from __future__ import annotations

from typing import Any

from reports.wording import NO_VALUE, change, delta, quantity

# (label, section path, unit); lower is better for all but throughput.
HEADLINES: list[tuple[str, tuple[str, ...], str]] = [
    ("requests", ("requests", "aggregate", "count"), ""),
    ("throughput", ("requests", "aggregate", "rps"), "req/s"),
    ("failures", ("requests", "aggregate", "failures"), ""),
    ("P50", ("requests", "aggregate", "p50_ms"), "ms"),
    ("P90", ("requests", "aggregate", "p90_ms"), "ms"),
    ("P95", ("requests", "aggregate", "p95_ms"), "ms"),
    ("P99", ("requests", "aggregate", "p99_ms"), "ms"),
    ("P99.9", ("requests", "aggregate", "p999_ms"), "ms"),
    ("max", ("requests", "aggregate", "max_ms"), "ms"),
    ("loop lag P99", ("loop", "lag_p99_ms"), "ms"),
    ("loop lag max", ("loop", "lag_max_ms"), "ms"),
    ("stalls", ("loop", "stall_count"), ""),
    ("blocked", ("loop", "stall_total_ms"), "ms"),
    ("target RSS peak", ("resources", "target", "rss_mb_peak"), "MB"),
    ("target CPU mean", ("resources", "target", "cpu_pct_mean"), "%"),
]


def _get(summary: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = summary
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return None if value is None else float(value)


def headline_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per headline figure: ``{name, unit, a, b, delta, ratio}`` (delta = b − a)."""
    rows = []
    for name, path, unit in HEADLINES:
        va, vb = _get(a, path), _get(b, path)
        delta = None if va is None or vb is None else vb - va
        ratio = None if delta is None or not va else delta / va
        rows.append({"name": name, "unit": unit, "a": va, "b": vb, "delta": delta, "ratio": ratio})
    return rows


def finding_key(finding: dict[str, Any]) -> tuple[str, str]:
    return str(finding.get("kind")), str(finding.get("location"))


def finding_diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Findings only run A has (gone in B), only B has (new in B), and in both."""
    keys_a = {finding_key(f) for f in a.get("diagnosis") or []}
    keys_b = {finding_key(f) for f in b.get("diagnosis") or []}
    return {
        "only_a": [f for f in a.get("diagnosis") or [] if finding_key(f) not in keys_b],
        "only_b": [f for f in b.get("diagnosis") or [] if finding_key(f) not in keys_a],
        "both": [f for f in a.get("diagnosis") or [] if finding_key(f) in keys_b],
    }


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The comparison of run A with run B."""
    return {
        "a": a["run"],
        "b": b["run"],
        "headlines": headline_rows(a, b),
        "findings": finding_diff(a, b),
    }


def format_value(value: float | None, unit: str) -> str:
    return quantity(value, unit)


def format_delta(row: dict[str, Any]) -> str:
    """``+362 ms (+258%)``; a change of a percentage in points: ``+3.2 pp (+11%)``."""
    if row["delta"] is None:
        return NO_VALUE
    ratio = f" ({change(row['ratio'])})" if row["ratio"] is not None else ""
    return delta(row["delta"], row["unit"]) + ratio
