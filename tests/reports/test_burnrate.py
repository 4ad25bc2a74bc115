"""Burn-rate alerts on synthetic SLI series with known answers (no load, no clock)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lagscope.reports.burnrate import (
    BurnRateRule,
    Transition,
    alert_states,
    burn_rates,
    held_for,
    transitions,
    window_sums,
)
from lagscope.reports.sli import SliSeries

BUDGET = 0.01  # a 99 % objective


def incident(
    *, seconds: int = 60, rps: int = 100, bad_from: int = 20, bad_to: int = 40, share: float = 0.5
) -> SliSeries:
    """``rps`` requests every second; ``share`` of them bad in seconds [bad_from, bad_to)."""
    total = np.full(seconds, rps, dtype=np.int64)
    bad = np.zeros(seconds, dtype=np.int64)
    bad[bad_from:bad_to] = int(rps * share)
    return SliSeries(bad=bad, total=total)


FAST = BurnRateRule(name="fast-burn", slo="latency", long_s=10, short_s=2, factor=5.0)


def test_window_sums_hold_what_exists_at_the_start() -> None:
    counts = np.array([1, 2, 3, 4, 5], dtype=np.int64)
    assert window_sums(counts, 3).tolist() == [1, 3, 6, 9, 12]


def test_burn_rate_is_the_bad_share_over_the_budget() -> None:
    rates = burn_rates(incident(), window_s=2, budget=BUDGET)
    assert rates[19] == 0.0
    assert rates[20] == pytest.approx(25.0)  # 50 bad of 200 in seconds 19..20
    assert rates[21] == pytest.approx(50.0)


def test_a_window_without_requests_burns_nothing() -> None:
    empty = SliSeries(bad=np.zeros(5, dtype=np.int64), total=np.zeros(5, dtype=np.int64))
    assert burn_rates(empty, window_s=3, budget=BUDGET).tolist() == [0.0] * 5


def test_fires_when_both_windows_exceed_the_factor_and_resolves_with_the_short_one() -> None:
    firing = alert_states(FAST, incident(), budget=BUDGET)
    # Second 20: the short window burns 25 but the long one only 5 (not above 5).
    # Second 21: long 100/1000 -> 10, short 50 -> fires at its end, t = 22.
    # Second 40 is good; the short window (39..40) still burns 25. Second 41: 0 -> resolved.
    assert transitions(firing) == [
        Transition(at=22.0, firing=True),
        Transition(at=42.0, firing=False),
    ]


def test_the_long_window_keeps_a_blip_from_paging() -> None:
    blip = incident(bad_from=30, bad_to=31, share=0.5)  # one bad second: long burn 5, not > 5
    assert not alert_states(FAST, blip, budget=BUDGET).any()


def test_a_slow_burn_below_the_factor_never_fires() -> None:
    slow = incident(bad_from=0, bad_to=60, share=0.04)  # burn 4 < 5 all along
    assert not alert_states(FAST, slow, budget=BUDGET).any()


def test_for_keeps_the_alert_pending_that_many_seconds() -> None:
    rule = BurnRateRule(name="x", slo="latency", long_s=10, short_s=2, factor=5.0, for_s=3)
    changes = transitions(alert_states(rule, incident(), budget=BUDGET))
    assert changes == [Transition(at=25.0, firing=True), Transition(at=42.0, firing=False)]


def test_held_for_counts_consecutive_evaluations() -> None:
    condition = np.array([True, True, False, True, True, True])
    assert held_for(condition, 1).tolist() == [False, True, False, False, True, True]
    assert held_for(condition, 0).tolist() == condition.tolist()


def test_an_alert_still_firing_at_the_end_has_no_resolve() -> None:
    firing = alert_states(FAST, incident(bad_to=60), budget=BUDGET)
    assert transitions(firing) == [Transition(at=22.0, firing=True)]


def test_slower_rule_fires_later_on_the_same_incident() -> None:
    slow = BurnRateRule(name="slow-burn", slo="latency", long_s=30, short_s=5, factor=5.0)
    # The 30 s window still holds only seconds 0..i at the start: at second 21 it holds
    # 100 bad of 2200 (burn 4.5), at second 22 150 of 2300 (burn 6.5): fires at t = 23.
    (fired, resolved) = transitions(alert_states(slow, incident(), budget=BUDGET))
    assert fired == Transition(at=23.0, firing=True)
    assert resolved == Transition(at=45.0, firing=False)  # short window 40..44 clean at 44


def brute_force_firing(rule: BurnRateRule, bad: list[int], total: list[int]) -> list[bool]:
    """The rule, evaluated second by second the slow and obvious way."""

    def burn(i: int, window: int) -> float:
        lo = max(0, i - window + 1)
        b, t = sum(bad[lo : i + 1]), sum(total[lo : i + 1])
        return (b / t) / BUDGET if t else 0.0

    condition = [
        burn(i, rule.long_s) > rule.factor and burn(i, rule.short_s) > rule.factor
        for i in range(len(total))
    ]
    return [
        i >= rule.for_s and all(condition[i - k] for k in range(rule.for_s + 1))
        for i in range(len(total))
    ]


@given(
    data=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=80),
    long_s=st.integers(1, 30),
    short_s=st.integers(1, 30),
    for_s=st.integers(0, 5),
)
def test_alert_states_match_a_brute_force_evaluation(
    data: list[tuple[int, int]], long_s: int, short_s: int, for_s: int
) -> None:
    total = [t + b for b, t in data]  # bad never exceeds total
    bad = [b for b, _ in data]
    rule = BurnRateRule(name="r", slo="s", long_s=long_s, short_s=short_s, factor=5.0, for_s=for_s)
    series = SliSeries(bad=np.array(bad, dtype=np.int64), total=np.array(total, dtype=np.int64))
    assert alert_states(rule, series, budget=BUDGET).tolist() == brute_force_firing(
        rule, bad, total
    )
