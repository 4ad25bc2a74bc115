"""Service-level objectives judged: a summary's figures against the checks of ``slo_spec``,
and for a failed one the endpoint most of its offending requests came from."""

from __future__ import annotations

import operator
from collections.abc import Callable

import pandas as pd
from lagscope.reports.latency import endpoint_key
from lagscope.reports.slo_spec import LATENCY, Slo
from lagscope.reports.summary_types import Culprit, LatencyFigures, SloCheck, SloSection

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def actual_value(slo: Slo, aggregate: LatencyFigures) -> float | None:
    """The measured value the check compares, in its unit; None when nothing was measured."""
    count = int(aggregate.get("count") or 0)
    if slo.metric in LATENCY:
        value = aggregate.get(LATENCY[slo.metric])
        return None if value is None else float(value)
    if slo.metric == "rps":
        return float(aggregate.get("rps") or 0.0)
    if count == 0:
        return None
    errors = 100.0 * int(aggregate.get("failures") or 0) / count
    return errors if slo.metric == "errors" else 100.0 - errors


def _offending(slo: Slo, requests: pd.DataFrame) -> tuple[pd.Series, str] | None:
    """The rows that break ``slo`` (slow ones for a latency bound, failed ones for errors and
    success) and what they are, in words; None for a check no single request breaks."""
    if slo.metric in LATENCY and slo.op in ("<", "<="):
        latency = requests["latency_ms"]
        slow = latency >= slo.target if slo.op == "<" else latency > slo.target
        return slow, f"requests over {slo.target:g} ms"
    if (slo.metric == "errors" and slo.op in ("<", "<=")) or (
        slo.metric == "success" and slo.op in (">", ">=")
    ):
        return ~requests["ok"].astype(bool), "failed requests"
    return None


def culprit(slo: Slo, requests: pd.DataFrame) -> Culprit | None:
    """The endpoint most of the requests that break ``slo`` came from.

    ``{endpoint, share, requests, of}``: its share of them, how many broke it in all, and
    what they are (``requests over 200 ms``, ``failed requests``); None for a throughput
    check or when no request broke it.
    """
    found = _offending(slo, requests) if not requests.empty else None
    if found is None:
        return None
    mask, of = found
    counts = endpoint_key(requests[mask]).value_counts()
    if counts.empty:
        return None
    top = str(sorted(counts.index[counts == counts.max()])[0])  # a tie: by name
    total = int(counts.sum())
    return {"endpoint": top, "share": round(int(counts.max()) / total, 4), "requests": total,
            "of": of}  # fmt: skip


def check_slos(
    slos: list[Slo], aggregate: LatencyFigures, *, requests: pd.DataFrame | None = None
) -> SloSection | None:
    """``{passed, checks: [{name, target, actual, unit, passed, culprit}]}``; None when no SLO
    was given. ``culprit`` (see ``culprit``) names, for a failed check, the endpoint most of
    the offending ``requests`` came from; null when it passed or no rows were given.

    A check with nothing measured (no requests) fails: an empty run meets no objective.
    """
    if not slos:
        return None
    checks: list[SloCheck] = []
    for slo in slos:
        actual = actual_value(slo, aggregate)
        passed = actual is not None and _OPS[slo.op](actual, slo.target)
        blamed = None if passed or requests is None else culprit(slo, requests)
        checks.append(
            {"name": slo.name, "target": f"{slo.op} {slo.target:g} {slo.unit}",
             "actual": None if actual is None else round(actual, 4), "unit": slo.unit,
             "passed": passed, "culprit": blamed}
        )  # fmt: skip
    return {"passed": all(c["passed"] for c in checks), "checks": checks}
