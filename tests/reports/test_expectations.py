"""Expectations: parsing the sentences, and judging them against measured timelines."""

from __future__ import annotations

import pytest
from lagscope.reports.burnrate import Transition
from lagscope.reports.expectations import Measured, judge, parse_expectation

from lagscope.errors import UsageError

FIRED_25_RESOLVED_62 = [Transition(at=25.0, firing=True), Transition(at=62.0, firing=False)]


def measured(**alerts: list[Transition]) -> Measured:
    return Measured(
        phases={"warm-up": 0.0, "inject": 20.0, "fix": 55.0},
        alerts={"fast": FIRED_25_RESOLVED_62, "slow": [], **alerts},
        recovered={("latency", "fix"): 61.0, ("latency", "inject"): None},
        budget_consumed={"latency": 0.031},
        pages=("fast", "slow"),
    )


def verdict(text: str, m: Measured | None = None) -> tuple[bool, str]:
    result = judge(parse_expectation(text), m or measured())
    assert result["text"] == " ".join(text.split())
    return result["passed"], result["actual"]


def test_fires_within_measures_from_the_phase_start() -> None:
    assert verdict("alert fast fires within 5s of inject") == (True, "fired 5 s after inject")
    assert verdict('alert "fast" fires within 1s of inject') == (False, "fired 5 s after inject")


def test_an_alert_that_never_fires_fails_fires_within() -> None:
    m = measured(fast=[])
    assert verdict("alert fast fires within 60s of inject", m) == (
        False,
        "never fired after inject",
    )


def test_a_false_alarm_before_the_phase_fails_fires_within() -> None:
    m = measured(fast=[Transition(at=10.0, firing=True)])
    passed, actual = verdict("alert fast fires within 60s of inject", m)
    assert not passed
    assert "already firing" in actual
    assert verdict("alert fast does not fire before inject", m) == (False, "first fired at 10 s")


def test_resolves_within_measures_from_the_fix() -> None:
    assert verdict("alert fast resolves within 7s of fix") == (True, "resolved 7 s after fix")
    assert verdict("alert fast resolves within 6s of fix")[0] is False
    still = measured(fast=[Transition(at=25.0, firing=True)])
    assert verdict("alert fast resolves within 60s of fix", still)[0] is False


def test_never_fires_and_quiet_before() -> None:
    assert verdict("alert fast never fires") == (False, "fired at 25 s")
    assert verdict("alert fast does not fire before inject") == (True, "first fired at 25 s")
    assert verdict("alert fast never fires", measured(fast=[])) == (True, "never fired")


def test_slo_recovery_and_budget() -> None:
    assert verdict("slo latency recovers within 6s of fix") == (
        True,
        "back within objective 6 s after fix",
    )
    assert verdict("slo latency recovers within 5s of fix")[0] is False
    assert verdict("slo latency recovers within 5s of inject") == (
        False,
        "not back within objective after inject",
    )
    assert verdict("slo latency budget consumed below 5%") == (True, "3.1% of the budget consumed")
    assert verdict("slo latency budget consumed below 3%")[0] is False


def test_a_phase_that_never_started_fails_its_expectations() -> None:
    m = measured()
    m.phases.pop("fix")
    assert verdict("alert fast resolves within 60s of fix", m) == (
        False,
        "phase fix never started (the exercise stopped early)",
    )


def test_an_unknown_sentence_lists_the_accepted_forms() -> None:
    with pytest.raises(UsageError, match="alert NAME fires within 45s of PHASE"):
        parse_expectation("the pager goes off")


def test_page_fires_within_counts_any_page_alert() -> None:
    m = measured(slow=[Transition(at=23.0, firing=True)])
    assert verdict("page fires within 5s of inject", m) == (True, "slow paged 3 s after inject")
    assert verdict("page fires within 2s of inject", m)[0] is False
    assert verdict("page fires within 60s of inject", measured(fast=[])) == (
        False,
        "no page fired after inject",
    )
