"""The shape of a series: Theil–Sen, Mann–Kendall and the leak verdict on hand-made series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lagscope.reports.trend import mann_kendall, theil_sen, thin, time_to, trend

RNG = np.random.default_rng(12)
T = np.arange(0, 20, 0.25)  # a 20 s window sampled every 250 ms, like gauges.csv


def test_theil_sen_is_the_median_pairwise_slope_and_ignores_an_outlier() -> None:
    t = np.arange(10, dtype=float)
    y = 2 * t + 1
    y[7] = 500.0  # one wild sample
    assert theil_sen(t, y) == pytest.approx(2.0)


def test_theil_sen_of_one_time_is_zero() -> None:
    assert theil_sen(np.array([1.0, 1.0]), np.array([0.0, 5.0])) == 0.0


def test_mann_kendall_matches_the_textbook_figures() -> None:
    # 1..5: S = 10, Var S = 5·4·15/18, z = (S − 1)/√Var = 2.205, one-sided p = 0.0137.
    s, p = mann_kendall(np.arange(1.0, 6.0))
    assert s == 10
    assert p == pytest.approx(0.5 * math.erfc(9 / math.sqrt(50 / 3) / math.sqrt(2)))
    assert p == pytest.approx(0.0137, abs=1e-4)


def test_mann_kendall_counts_ties_in_the_variance() -> None:
    # 1,1,2,2: S = 4 (the two tied pairs count 0); Var = (4·3·13 − 2·(2·1·9))/18 = 6.667.
    s, p = mann_kendall(np.array([1.0, 1.0, 2.0, 2.0]))
    assert s == 4
    assert p == pytest.approx(0.5 * math.erfc((3 / math.sqrt(120 / 18)) / math.sqrt(2)))


def test_mann_kendall_of_a_falling_or_constant_series_says_not_increasing() -> None:
    assert mann_kendall(np.arange(10.0)[::-1])[1] > 0.99
    assert mann_kendall(np.ones(10))[1] == 1.0


def test_a_slow_steady_leak_is_growing_with_its_rate() -> None:
    # 3 tasks a second on top of 20 in-flight requests that come and go.
    y = 4 + 3 * T + RNG.integers(0, 20, T.size)
    found = trend(T, y.astype(float))
    assert found is not None
    assert found.shape == "growing"
    assert found.slope_per_s == pytest.approx(3.0, abs=0.4)
    assert found.p_value < 1e-6


def test_a_cache_that_warms_and_plateaus_is_levelling_not_growing() -> None:
    y = 80 + 40 * (1 - np.exp(-T / 2.0)) + RNG.normal(0, 0.3, T.size)
    found = trend(T, y)
    assert found is not None
    assert found.shape == "levelling"


def test_a_burst_that_drains_is_not_growing() -> None:
    y = 5 + 200 * np.exp(-(((T - 7) / 2) ** 2)) + RNG.integers(0, 3, T.size)
    found = trend(T, y.astype(float))
    assert found is not None
    assert found.shape == "draining"


def test_a_busy_pool_that_returns_its_connections_is_flat() -> None:
    y = RNG.integers(3, 11, T.size).astype(float)
    found = trend(T, y)
    assert found is not None
    assert found.shape == "flat"


def test_a_leak_that_starts_mid_window_still_grows() -> None:
    y = np.where(T < 8, 10.0, 10.0 + 2 * (T - 8))
    found = trend(T, y)
    assert found is not None
    assert found.shape == "growing"


def test_too_few_samples_or_no_time_give_no_trend() -> None:
    assert trend(np.arange(5.0), np.arange(5.0)) is None
    assert trend(np.ones(10), np.arange(10.0)) is None


def test_nan_samples_are_dropped() -> None:
    y = 2 * T
    y[::5] = np.nan
    found = trend(T, y)
    assert found is not None
    assert found.slope_per_s == pytest.approx(2.0)


def test_long_series_are_thinned_to_bin_medians() -> None:
    t = np.arange(10_000, dtype=float)
    tt, yy = thin(t, 3 * t, max_points=100)
    assert tt.size == yy.size == 100
    assert theil_sen(tt, yy) == pytest.approx(3.0)
    found = trend(t, 3 * t)
    assert found is not None
    assert found.points <= 240
    assert found.rise == pytest.approx(3 * 9_999, rel=0.01)


def test_time_to_a_limit_at_the_measured_slope() -> None:
    assert time_to(512.0, level=100.0, slope_per_s=0.5) == pytest.approx(824.0)
    assert time_to(512.0, level=600.0, slope_per_s=0.5) == 0.0
    assert time_to(512.0, level=100.0, slope_per_s=0.0) is None


def test_a_cache_that_fills_in_a_few_seconds_then_creeps_is_levelling() -> None:
    # measured on shop's gc_pressure: 158 → 174 MB in 3 s, then 0.16 MB/s for 7 s; the whole
    # window's Theil–Sen slope (0.3 MB/s) is set by the plateau's pairs
    y = np.where(T < 3, 158 + 5.3 * T, 174 + 0.16 * (T - 3)) + RNG.normal(0, 0.05, T.size)
    found = trend(T[T < 10], y[T < 10])
    assert found is not None
    assert found.shape == "levelling"
