"""Service-level indicators per second: how many requests were bad, out of how many.

Two kinds of objective, written in the same ``METRIC OP VALUE`` form as ``--slo``:

    availability   ``errors<0.1%`` or ``success>=99.9%``: a failed request is bad
    latency        ``p99<500ms``: a request slower than 500 ms is bad, and at most
                   1 % may be (so the share of slow requests is the indicator)

A request is counted in the second it **completed** (its send time plus its latency;
in rate mode its intended send time plus its corrected latency), as a server's
request counters are: that is when monitoring could have seen it.

An objective may cover only some endpoints (``"GET /products"``: method and the
scenario's name), as a user journey's SLO does.

Seconds are counted from the exercise's origin ``t0``: index ``i`` holds the
requests that completed in ``[t0 + i, t0 + i + 1)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from lagscope.reports.latency import endpoint_key

from lagscope.errors import UsageError

SliKind = Literal["availability", "latency"]
Counts = npt.NDArray[np.int64]

_OBJECTIVE = re.compile(
    r"^\s*(?P<metric>errors|success|p\d+(?:\.\d+)?)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|%)?\s*$"
)


@dataclass(frozen=True, kw_only=True)
class Objective:
    """One SLO: which requests are bad, and the share of good ones promised."""

    name: str  # as the game-day file names it: "availability", "latency", ...
    text: str  # as written: "p99<300ms"
    kind: SliKind
    target: float  # share of good requests promised, e.g. 0.999
    threshold_ms: float | None = None  # latency: slower than this is bad
    endpoints: tuple[str, ...] = ()  # "METHOD name" of the requests it covers; () = all

    @property
    def budget(self) -> float:
        """The share of requests allowed to be bad (the error budget rate)."""
        return 1.0 - self.target


def parse_objective(text: str, *, name: str, endpoints: tuple[str, ...] = ()) -> Objective:
    """``errors<0.1%``, ``success>=99.9%`` or ``p99<300ms``; raise UsageError otherwise."""
    match = _OBJECTIVE.match(text.lower())
    forms = "write e.g. 'p99<300ms', 'p95<200ms', 'errors<0.1%' or 'success>=99.9%'"
    if match is None:
        raise UsageError(f"SLO {name!r}: {text!r} is not an objective; {forms}")
    metric, op, unit = match["metric"], match["op"], match["unit"]
    value = float(match["value"])
    if metric.startswith("p"):
        share = float(metric[1:])
        if op not in ("<", "<=") or unit == "%" or not 0 < share < 100:
            raise UsageError(f"SLO {name!r}: {text!r}: a latency objective is 'pNN<VALUEms'")
        threshold = value * 1000.0 if unit == "s" else value
        return Objective(
            name=name, text=text, kind="latency", target=share / 100.0, threshold_ms=threshold,
            endpoints=endpoints,
        )  # fmt: skip
    if unit not in (None, "%"):
        raise UsageError(f"SLO {name!r}: {text!r}: {metric} takes a percentage, e.g. 0.1%")
    wanted = ("<", "<=") if metric == "errors" else (">", ">=")
    if op not in wanted:
        raise UsageError(f"SLO {name!r}: {text!r}: {forms}")
    good = 100.0 - value if metric == "errors" else value
    if not 0 < good < 100:
        raise UsageError(f"SLO {name!r}: {text!r}: the objective must leave a budget (0..100%)")
    return Objective(
        name=name, text=text, kind="availability", target=good / 100.0, endpoints=endpoints
    )


def completion_times(requests: pd.DataFrame) -> npt.NDArray[np.float64]:
    """When each request completed (unix s): its (intended) send time plus its latency."""
    start: npt.NDArray[np.float64] = requests["t"].to_numpy(dtype=np.float64)
    if "intended_t" in requests:
        intended = requests["intended_t"].to_numpy(dtype=np.float64)
        start = np.where(np.isnan(intended), start, intended)
    latency: npt.NDArray[np.float64] = requests["latency_ms"].to_numpy(dtype=np.float64)
    return start + latency / 1000.0


def is_bad(requests: pd.DataFrame, objective: Objective) -> npt.NDArray[np.bool_]:
    """Which requests count against ``objective``."""
    failed: npt.NDArray[np.bool_] = ~requests["ok"].to_numpy(dtype=bool)
    if objective.kind == "availability":
        return failed
    assert objective.threshold_ms is not None
    # A failed request has no meaningful latency: it is the availability SLO's business.
    latency: npt.NDArray[np.float64] = requests["latency_ms"].to_numpy(dtype=np.float64)
    slow: npt.NDArray[np.bool_] = latency > objective.threshold_ms
    return slow & ~failed


@dataclass(frozen=True)
class SliSeries:
    """Bad and total requests per second of the exercise."""

    bad: Counts
    total: Counts

    def __len__(self) -> int:
        return int(self.total.size)


def sli_series(
    requests: pd.DataFrame, objective: Objective, *, t0: float, seconds: int
) -> SliSeries:
    """Per-second counts over ``[t0, t0 + seconds)``; requests completing outside are left out."""
    if objective.endpoints and not requests.empty:
        requests = requests[endpoint_key(requests).isin(objective.endpoints).to_numpy()]
    if requests.empty:
        zeros = np.zeros(seconds, dtype=np.int64)
        return SliSeries(bad=zeros, total=zeros.copy())
    index = np.floor(completion_times(requests) - t0).astype(np.int64)
    inside = (index >= 0) & (index < seconds)
    total = np.bincount(index[inside], minlength=seconds).astype(np.int64)
    bad_index = index[inside & is_bad(requests, objective)]
    bad = np.bincount(bad_index, minlength=seconds).astype(np.int64)
    return SliSeries(bad=bad[:seconds], total=total[:seconds])
