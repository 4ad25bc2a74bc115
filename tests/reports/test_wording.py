"""How figures read: one minus sign, percentage points for a change of a percentage, plurals."""

from __future__ import annotations

import pytest
from lagscope.reports.renderers.tables import loop_line
from lagscope.reports.wording import MINUS, change, delta, named, plural, quantity


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 stalls"), (1, "1 stall"), (36, "36 stalls"), (1200, "1,200 stalls")]
)
def test_a_count_carries_its_noun_in_the_right_number(count: int, text: str) -> None:
    assert plural(count, "stall") == text


def test_an_irregular_plural_is_given() -> None:
    assert plural(1, "load process", "load processes") == "1 load process"
    assert plural(2, "load process", "load processes") == "2 load processes"
    assert named("worker", ["4242"]) == "worker 4242"
    assert named("worker", ["4242", "4243"]) == "workers 4242, 4243"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (-300.0, "ms", f"{MINUS}300 ms"),
        (362.4, "ms", "+362 ms"),
        (3.24, "%", "+3.2 pp"),  # a difference of two percentages is in points
        (-3.24, "%", f"{MINUS}3.2 pp"),
        (0.04, "ms", "0 ms"),  # rounds to zero: no sign
        (-12.0, "", f"{MINUS}12"),
        (None, "ms", "–"),
    ],
)
def test_a_delta_is_signed_with_one_minus_sign(value: float | None, unit: str, text: str) -> None:
    assert delta(value, unit) == text
    assert "-" not in delta(value, unit)


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.11, "+11%"), (-0.75, f"{MINUS}75%"), (0.001, "0%"), (-0.004, "0%"), (None, "–")],
)
def test_a_relative_change_is_signed_with_the_same_minus(ratio: float | None, text: str) -> None:
    assert change(ratio) == text


def test_a_quantity_rounds_to_what_can_be_read() -> None:
    assert quantity(501.9472, "ms") == "502 ms"
    assert quantity(12.345, "ms") == "12.3 ms"
    assert quantity(1234.0, "req/s") == "1,234 req/s"
    assert quantity(-3.0, "%") == f"{MINUS}3.0 %"
    assert quantity(7.0, "") == "7"
    assert quantity(None, "MB") == "–"


def test_one_stall_over_one_worker_reads_in_the_singular() -> None:
    loop = {
        "heartbeats": 1000, "lag_p50_ms": 0.2, "lag_p99_ms": 3.0, "lag_max_ms": 40.0,
        "stall_count": 1, "stall_total_ms": 40.0, "workers": 1, "unsampled_stalls": 1,
    }  # fmt: skip
    line = loop_line(loop)
    assert "1 stall," in line
    assert "(1 worker)" in line
    assert "1 more beat over the threshold" in line
