"""Service-level objectives as written: ``p99<500ms``-style checks parsed (no pandas here:
the command line parses ``--slo`` before anything heavy is imported).

A check is ``METRIC OP VALUE[UNIT]``:

    p50 p90 p95 p99 p999 (or p99.9) max   latency of the headline requests; ms (default) or s
    errors                                failed share of requests; % (default) or a fraction
    success                               succeeded share; % (default)
    rps                                   headline throughput, requests per second

``OP`` is ``<``, ``<=``, ``>`` or ``>=``.  ``default`` stands for the operations guide's
starting targets: success ≥ 99.9 %, P95 < 200 ms, P99 < 500 ms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lagscope.reports.summary_types import PercentileKey

from lagscope.errors import UsageError

DEFAULT_SLOS = ("success>=99.9%", "p95<200ms", "p99<500ms")
LATENCY: dict[str, PercentileKey] = {
    "p50": "p50_ms", "p90": "p90_ms", "p95": "p95_ms", "p99": "p99_ms",
    "p999": "p999_ms", "p99.9": "p999_ms", "max": "max_ms",
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
    if match is None or match.group(1) not in {*LATENCY, "errors", "success", "rps"}:
        raise UsageError(
            f"--slo {text!r} is not an SLO; write METRIC OP VALUE, e.g. 'p99<500ms', "
            "'errors<0.1%', 'success>=99.9%', 'rps>100' (metrics: p50 p90 p95 p99 p999 max "
            "errors success rps), or 'default'"
        )
    metric, op, number, unit = match.groups()
    value = float(number)
    if metric in LATENCY:
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
