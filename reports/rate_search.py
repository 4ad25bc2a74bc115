"""The search for the highest arrival rate a configuration sustains under the SLO.

Pure: ``next_step(history)`` says which rate to try next given the steps so far, so a
sweep can be resumed by replaying the steps it recorded.  The search doubles the rate
while steps pass (halves it while they fail), then bisects (geometric midpoint) until
the bracket is within ``precision``, then confirms the best passing rate once.  A
confirmation that fails turns that rate into a failure and the search goes on below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from lagscope import defaults

StepKind = Literal["search", "confirm"]


@dataclass(frozen=True)
class Step:
    rate: float
    kind: StepKind
    passed: bool
    valid: bool = True  # False: the load generator, not the target, was the limit


@dataclass(frozen=True, kw_only=True)
class SearchLimits:
    start: float = defaults.SWEEP_START_RATE
    min_rate: float = 5.0
    max_rate: float = 5000.0
    precision: float = 0.15  # stop bisecting when hi/lo <= 1 + precision
    max_steps: int = 8  # search and confirm steps together


def _nice(rate: float) -> float:
    """Round to two significant digits so step rates read well (e.g. 137.2 -> 140)."""
    if rate <= 0:
        return rate
    digits = 1 - int(math.floor(math.log10(rate)))
    return float(round(rate, digits))


def _bracket(history: list[Step]) -> tuple[float | None, float | None]:
    """(highest rate that passed and was not refuted, lowest failing rate above it)."""
    failed = {s.rate for s in history if not s.passed}
    passed = {s.rate for s in history if s.passed} - failed
    lo = max(passed) if passed else None
    above = [r for r in failed if lo is None or r > lo]
    return lo, (min(above) if above else None)


def next_step(history: list[Step], limits: SearchLimits) -> tuple[float, StepKind] | None:
    """The next (rate, kind) to run, or None when the search is over."""
    if any(not s.valid for s in history):
        return None  # past the load generator's limit nothing more can be learned
    if not history:
        return _nice(limits.start), "search"
    lo, hi = _bracket(history)
    confirmed = lo is not None and any(s.kind == "confirm" and s.rate == lo for s in history)
    if len(history) >= limits.max_steps:
        return None
    if lo is None:
        lowest_fail = min(s.rate for s in history)
        if lowest_fail <= limits.min_rate:
            return None  # not even the minimum rate is sustainable
        return max(_nice(lowest_fail / 2), limits.min_rate), "search"
    converged = (hi is None and lo >= limits.max_rate) or (
        hi is not None and hi / lo <= 1 + limits.precision
    )
    if converged or len(history) == limits.max_steps - 1:
        return None if confirmed else (lo, "confirm")
    if hi is None:
        return min(_nice(lo * 2), limits.max_rate), "search"
    mid = _nice(math.sqrt(lo * hi))
    if mid in (lo, hi):
        return None if confirmed else (lo, "confirm")
    return mid, "search"


@dataclass(frozen=True)
class Outcome:
    max_rate: float | None  # highest rate that passed (and its confirmation, if run)
    confirmed: bool
    valid: bool
    steps: int


def outcome(history: list[Step]) -> Outcome:
    lo, _ = _bracket(history)
    confirmed = lo is not None and any(s.kind == "confirm" and s.rate == lo for s in history)
    return Outcome(
        max_rate=lo,
        confirmed=confirmed,
        valid=all(s.valid for s in history),
        steps=len(history),
    )
