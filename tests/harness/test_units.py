from __future__ import annotations

import pytest

from lagscope.errors import UsageError
from lagscope.units import parse_milliseconds, parse_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("2m", 120.0), ("1.5", 1.5), ("250ms", 0.25), ("1h", 3600.0), (" 7 s", 7.0)],
)
def test_durations_accept_s_m_h_and_ms(text: str, seconds: float) -> None:
    assert parse_seconds(text, what="--duration") == pytest.approx(seconds)


def test_bare_numbers_are_milliseconds_for_thresholds() -> None:
    assert parse_milliseconds("20", what="--stall-threshold") == pytest.approx(20.0)
    assert parse_milliseconds("0.05s", what="--stall-threshold") == pytest.approx(50.0)


@pytest.mark.parametrize("text", ["", "ten", "-5s", "5 days", "0"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(UsageError, match="--duration"):
        parse_seconds(text, what="--duration")


def test_a_bare_duration_is_seconds_and_the_error_says_so() -> None:
    assert parse_seconds("5", what="--duration") == pytest.approx(5.0)
    with pytest.raises(UsageError, match="a bare number counts as seconds"):
        parse_seconds("abc", what="--duration")


@pytest.mark.parametrize("text", ["-5s", "-5", "-0.5m", "0ms"])
def test_negative_or_zero_durations_must_be_greater_than_zero(text: str) -> None:
    with pytest.raises(UsageError, match=f"--duration: '{text}' must be greater than zero"):
        parse_seconds(text, what="--duration")
