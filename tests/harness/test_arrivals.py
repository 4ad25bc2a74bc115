"""The arrival plan: a pure function of rate, ramp, kind, duration and seed."""

from __future__ import annotations

import numpy as np
import pytest

from lagscope.arrivals import (
    ENV_OPTIONS,
    PlanOptions,
    Rate,
    expected_count,
    parse_rate,
    plan,
    share,
)
from lagscope.errors import UsageError


def test_parse_rate_reads_a_constant_rate_and_a_ramp() -> None:
    assert parse_rate("200") == Rate(200.0, 200.0)
    assert parse_rate("50:500") == Rate(50.0, 500.0)
    assert parse_rate("0:100") == Rate(0.0, 100.0)
    assert str(parse_rate("50:500")) == "50:500"


@pytest.mark.parametrize("text", ["", "fast", "-5", "0", "10:0", "1:2:3", "10/s"])
def test_parse_rate_rejects_what_is_not_a_positive_rate(text: str) -> None:
    with pytest.raises(UsageError, match="--rate"):
        parse_rate(text)


def test_constant_plan_is_evenly_spaced_from_zero() -> None:
    times = plan(rate=Rate(200, 200), duration_s=2.0)
    assert len(times) == 400
    assert times[0] == 0.0
    np.testing.assert_allclose(np.diff(times), 0.005)
    assert times[-1] < 2.0


def test_ramp_plan_sends_the_area_under_the_rate_and_speeds_up_linearly() -> None:
    rate = Rate(50, 500)
    times = plan(rate=rate, duration_s=10.0)
    assert len(times) == pytest.approx(expected_count(rate, 10.0), abs=1)
    # The local rate (1 / gap) follows the ramp: 50/s at the start, 500/s at the end.
    gaps = np.diff(times)
    assert 1 / gaps[0] == pytest.approx(50, rel=0.02)
    assert 1 / gaps[-1] == pytest.approx(500, rel=0.02)
    assert np.all(gaps > 0)


def test_ramp_from_zero_starts_at_zero() -> None:
    times = plan(rate=Rate(0, 100), duration_s=4.0)
    assert times[0] == 0.0
    assert len(times) == pytest.approx(200, abs=1)
    # Half the arrivals fall in the last 29% of the time (area grows with t²).
    assert times[100] == pytest.approx(4.0 * np.sqrt(0.5), abs=0.02)


def test_poisson_plan_has_the_rate_and_exponential_gaps_and_is_seeded() -> None:
    times = plan(rate=Rate(1000, 1000), duration_s=20.0, arrivals="poisson", seed=7)
    assert len(times) == pytest.approx(20_000, rel=0.03)  # σ = √20000 ≈ 0.7%
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(0.001, rel=0.03)
    assert gaps.std() == pytest.approx(gaps.mean(), rel=0.05)  # exponential: σ = mean
    assert np.all(gaps >= 0)
    assert times[-1] < 20.0
    again = plan(rate=Rate(1000, 1000), duration_s=20.0, arrivals="poisson", seed=7)
    other = plan(rate=Rate(1000, 1000), duration_s=20.0, arrivals="poisson", seed=8)
    np.testing.assert_array_equal(times, again)
    assert len(other) != len(times) or not np.array_equal(other, times)


def test_poisson_ramp_follows_the_rate() -> None:
    times = plan(rate=Rate(100, 900), duration_s=10.0, arrivals="poisson", seed=1)
    first, last = np.sum(times < 1.0), np.sum(times >= 9.0)
    assert first == pytest.approx(140, rel=0.3)  # ∫₀¹ (100 + 80t) dt
    assert last == pytest.approx(860, rel=0.12)  # ∫₉¹⁰ (100 + 80t) dt


def test_shares_of_the_processes_make_up_the_whole_plan() -> None:
    times = plan(rate=Rate(300, 300), duration_s=1.0)
    parts = [share(times, index=i, procs=3) for i in range(3)]
    assert sum(len(p) for p in parts) == len(times)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), times)
    # Each process sends a third of the rate, evenly spaced.
    np.testing.assert_allclose(np.diff(parts[1]), 0.01)
    with pytest.raises(ValueError, match="outside"):
        share(times, index=3, procs=3)


def test_plan_options_travel_to_locust_through_the_environment() -> None:
    options = PlanOptions(rate=Rate(50, 500), arrivals="poisson", duration_s=6.0, seed=3,
                          max_users=8, procs=2)  # fmt: skip
    assert PlanOptions.from_env({ENV_OPTIONS: options.to_env()}) == options
    assert PlanOptions.from_env({}) is None  # closed mode
