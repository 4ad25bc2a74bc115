"""Service-level objectives: parsing ``p99<500ms``-style checks and judging a summary by them.

A check is ``METRIC OP VALUE[UNIT]``:

    p50 p90 p95 p99 p999 (or p99.9) max   latency of the headline requests; ms (default) or s
    errors                                failed share of requests; % (default) or a fraction
    success                               succeeded share; % (default)
    rps                                   headline throughput, requests per second

``OP`` is ``<``, ``<=``, ``>`` or ``>=``.  ``default`` stands for the operations guide's
starting targets: success ≥ 99.9 %, P95 < 200 ms, P99 < 500 ms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
from lagscope.reports.latency import endpoint_key
from lagscope.reports.summary_types import (
    Culprit,
    LatencyFigures,
    PercentileKey,
    SloCheck,
    SloSection,
)

from lagscope.errors import UsageError

DEFAULT_SLOS = ("success>=99.9%", "p95<200ms", "p99<500ms")
_LATENCY: dict[str, PercentileKey] = {
    "p50": "p50_ms", "p90": "p90_ms", "p95": "p95_ms", "p99": "p99_ms",
    "p999": "p999_ms", "p99.9": "p999_ms", "max": "max_ms",
}  # fmt: skip
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_CHECK = re.compile(r"^\s*([a-z][a-z0-9.]*)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$")


@dataclass(frozen=True)
class Slo:
    name: str  # as written, normalised: "p99<500ms"
    metric: str  # p99, errors, success, rps, ...
    op: str
    target: float  # in the metric's unit: ms, %, or requests/s
    unit: str  # "ms", "%", "rps"


def parse_slo(text: str) -> Slo:
    """One check; raises UsageError with the accepted forms when ``text`` is not one."""
    match = _CHECK.match(text.lower())
    if match is None or match.group(1) not in {*_LATENCY, "errors", "success", "rps"}:
        raise UsageError(
            f"--slo {text!r} is not an SLO; write METRIC OP VALUE, e.g. 'p99<500ms', "
            "'errors<0.1%', 'success>=99.9%', 'rps>100' (metrics: p50 p90 p95 p99 p999 max "
            "errors success rps), or 'default'"
        )
    metric, op, number, unit = match.groups()
    value = float(number)
    if metric in _LATENCY:
        if unit == "%":
            raise UsageError(f"--slo {text!r}: a latency takes ms or s, not %")
        value, unit = (value * 1000.0 if unit == "s" else value), "ms"
    elif metric == "rps":
        if unit is not None:
            raise UsageError(f"--slo {text!r}: rps takes a bare number (requests per second)")
        unit = "rps"
    else:
        if unit in ("ms", "s"):
            raise UsageError(f"--slo {text!r}: {metric} takes a percentage, e.g. 0.1%")
        value, unit = (value if unit == "%" else value * 100.0), "%"
    name = f"{metric}{op}{value:g}{'' if unit == 'rps' else unit}"
    return Slo(name=name, metric=metric, op=op, target=value, unit=unit)


def parse_slos(texts: Iterable[str]) -> list[Slo]:
    """Every check of ``texts`` (``default`` expands to DEFAULT_SLOS); blank and # lines skip."""
    slos: list[Slo] = []
    for raw in texts:
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if text.lower() == "default":
            slos.extend(parse_slo(t) for t in DEFAULT_SLOS)
        else:
            slos.append(parse_slo(text))
    return slos


def actual_value(slo: Slo, aggregate: LatencyFigures) -> float | None:
    """The measured value the check compares, in its unit; None when nothing was measured."""
    count = int(aggregate.get("count") or 0)
    if slo.metric in _LATENCY:
        value = aggregate.get(_LATENCY[slo.metric])
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
    if slo.metric in _LATENCY and slo.op in ("<", "<="):
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
