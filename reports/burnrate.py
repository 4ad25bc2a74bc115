"""Multi-window, multi-burn-rate alerts on an error budget (the SRE workbook, chapter 5).

The **burn rate** over a window is the share of bad requests in it divided by the
budget (``1 - target``): at burn rate 1 the budget lasts exactly the SLO period; at
14.4 a 30-day budget loses 2 % in an hour.  A rule pages when the burn rate over a
long window **and** over a short window both exceed its factor: the long window
keeps a blip from paging, the short one lets the alert resolve soon after the fix
(instead of paging until the long window forgets the incident).

Rules are evaluated once a second, as Prometheus evaluates a rule group.  The
evaluation at the end of second ``i`` sees the requests completed in seconds
``i - window + 1 .. i`` (fewer at the start of the exercise: a window holds what
exists, as ``rate()`` over a short history does).  A window without requests burns
nothing.  With ``for_s`` the condition must hold that many seconds more before the
alert fires (Prometheus' pending state).

Instants are seconds from the exercise's origin: an alert whose condition first
holds in the evaluation of second ``i`` fires at ``i + 1`` (the end of that second).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from lagscope.reports.sli import Counts, SliSeries

Severity = Literal["page", "ticket"]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class BurnRateRule:
    name: str  # "fast-burn"
    slo: str  # the objective's name
    long_s: int  # long window, seconds of the exercise
    short_s: int  # short window
    factor: float  # burn rate both windows must exceed
    for_s: int = 0  # how long the condition must hold before firing
    severity: Severity = "page"


@dataclass(frozen=True)
class Transition:
    at: float  # seconds from the exercise's origin
    firing: bool  # True: the alert fired; False: it resolved


def window_sums(counts: Counts, window_s: int) -> Counts:
    """Sum of ``counts`` over the trailing ``window_s`` seconds ending at each second."""
    cumulative = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
    ends = np.arange(1, counts.size + 1)
    starts = np.maximum(ends - window_s, 0)
    return (cumulative[ends] - cumulative[starts]).astype(np.int64)


def burn_rates(series: SliSeries, *, window_s: int, budget: float) -> Floats:
    """Burn rate over the trailing ``window_s`` seconds, at each second (0 without requests)."""
    bad = window_sums(series.bad, window_s).astype(float)
    total = window_sums(series.total, window_s).astype(float)
    share: Floats = np.divide(bad, total, out=np.zeros_like(bad), where=total > 0)
    rates: Floats = share / budget
    return rates


def held_for(condition: Flags, seconds: int) -> Flags:
    """True where ``condition`` has held for the last ``seconds + 1`` evaluations."""
    if seconds <= 0:
        return condition.copy()
    run = np.zeros(condition.size, dtype=np.int64)
    streak = 0
    for i, value in enumerate(condition):
        streak = streak + 1 if value else 0
        run[i] = streak
    return run > seconds


def alert_states(rule: BurnRateRule, series: SliSeries, *, budget: float) -> Flags:
    """Whether ``rule`` is firing at each second of ``series``."""
    long_burn = burn_rates(series, window_s=rule.long_s, budget=budget)
    short_burn = burn_rates(series, window_s=rule.short_s, budget=budget)
    condition = (long_burn > rule.factor) & (short_burn > rule.factor)
    return held_for(condition, rule.for_s)


def transitions(firing: Flags) -> list[Transition]:
    """Each change of state: fired or resolved, at the end of the second it happened in."""
    changes: list[Transition] = []
    previous = False
    for i, state in enumerate(firing):
        if bool(state) != previous:
            changes.append(Transition(at=float(i + 1), firing=bool(state)))
            previous = bool(state)
    return changes
