"""The rate search, driven by a fake target with a known capacity (no load)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lagscope.reports.rate_search import SearchLimits, Step, next_step, outcome


def drive(
    capacity: float, limits: SearchLimits, *, flaky: Callable[[Step], bool] | None = None
) -> list[Step]:
    """Run the search against a target that passes every rate up to ``capacity``."""
    history: list[Step] = []
    while (action := next_step(history, limits)) is not None:
        rate, kind = action
        step = Step(rate=rate, kind=kind, passed=rate <= capacity)
        if flaky is not None and flaky(step):
            step = Step(rate=rate, kind=kind, passed=False)
        history.append(step)
    return history


@pytest.mark.parametrize("capacity", [33.0, 90.0, 400.0, 1234.0])
def test_finds_the_capacity_within_the_precision_and_confirms_it(capacity: float) -> None:
    limits = SearchLimits(start=50, max_rate=5000, precision=0.15, max_steps=12)
    history = drive(capacity, limits)
    result = outcome(history)
    assert result.max_rate is not None
    assert capacity / 1.2 <= result.max_rate <= capacity
    assert result.confirmed
    assert history[-1] == Step(rate=result.max_rate, kind="confirm", passed=True)


def test_never_runs_more_steps_than_allowed() -> None:
    limits = SearchLimits(start=50, max_rate=100000, precision=0.01, max_steps=6)
    history = drive(7777.0, limits)
    assert len(history) == 6
    assert history[-1].kind == "confirm"


def test_stops_at_the_max_rate_when_everything_passes() -> None:
    history = drive(1e9, SearchLimits(start=100, max_rate=800, max_steps=10))
    assert [s.rate for s in history] == [100, 200, 400, 800, 800]
    assert outcome(history).max_rate == 800


def test_reports_nothing_sustainable_when_even_the_minimum_fails() -> None:
    history = drive(1.0, SearchLimits(start=40, min_rate=5, max_steps=10))
    assert [s.rate for s in history] == [40, 20, 10, 5]
    assert outcome(history).max_rate is None


def test_a_failed_confirmation_moves_the_answer_down() -> None:
    limits = SearchLimits(start=50, max_rate=5000, precision=0.15, max_steps=14)
    confirms: list[float] = []

    def first_confirmation_fails(step: Step) -> bool:
        if step.kind != "confirm":
            return False
        confirms.append(step.rate)
        return len(confirms) == 1

    history = drive(400.0, limits, flaky=first_confirmation_fails)
    result = outcome(history)
    assert len(confirms) == 2
    assert result.max_rate is not None
    assert result.max_rate < confirms[0]
    assert result.max_rate == confirms[1]
    assert result.confirmed


def test_an_invalid_step_ends_the_search_and_marks_the_outcome() -> None:
    history = [Step(50, "search", True), Step(100, "search", True, valid=False)]
    assert next_step(history, SearchLimits()) is None
    assert not outcome(history).valid


def test_replaying_a_recorded_history_continues_where_it_stopped() -> None:
    limits = SearchLimits(start=50, max_rate=5000, max_steps=12)
    full = drive(300.0, limits)
    resumed = full[:3]
    while (action := next_step(resumed, limits)) is not None:
        resumed.append(Step(rate=action[0], kind=action[1], passed=action[0] <= 300.0))
    assert resumed == full
