"""An SLO check reads the same everywhere: its measured value with a unit, rounded to what
the target can tell apart, and the endpoint that broke it."""

from __future__ import annotations

from typing import Any

import pytest
from lagscope.reports.renderers.slo import actual_text, check_line


def _check(name: str, target: str, actual: float | None, passed: bool, **extra: Any) -> dict:
    unit = target.split()[-1]
    return {"name": name, "target": target, "actual": actual, "unit": unit, "passed": passed,
            "culprit": None, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (_check("p95<200ms", "< 200 ms", 501.9472, False), "501.9 ms"),
        (_check("p99<500ms", "< 500 ms", 1234.5678, False), "1,234.6 ms"),
        (_check("p99<500ms", "< 500 ms", 312.0, True), "312 ms"),  # no trailing zero
        (_check("success>=99.9%", ">= 99.9 %", 99.9512, True), "99.95 %"),
        (_check("success>=99.9%", ">= 99.9 %", 100.0, True), "100 %"),
        (_check("errors<0.1%", "< 0.1 %", 0.2, False), "0.2 %"),
        (_check("rps>100", "> 100 rps", 95.27, False), "95.3 rps"),
        (_check("p99<500ms", "< 500 ms", None, False), "nothing measured"),
    ],
)
def test_the_actual_value_has_its_unit_and_one_decimal_more_than_the_target(
    check: dict, text: str
) -> None:
    assert actual_text(check) == text


def test_rounding_never_makes_a_failure_read_as_a_pass() -> None:
    # 200.04 rounds to "200.0", which meets "<= 200": more decimals until it reads as failed
    assert actual_text(_check("p99<=200ms", "<= 200 ms", 200.04, False)) == "200.04 ms"
    assert actual_text(_check("success>=99.9%", ">= 99.9 %", 99.899, False)) == "99.899 %"


def test_a_check_line_says_verdict_actual_target_and_the_endpoint_to_blame() -> None:
    culprit = {"endpoint": "GET /slow", "share": 0.7143, "requests": 1240,
               "of": "requests over 200 ms"}  # fmt: skip
    line = check_line(_check("p95<200ms", "< 200 ms", 501.9472, False, culprit=culprit))
    assert line == (
        "p95<200ms: FAIL, actual 501.9 ms (target < 200 ms); "
        "GET /slow made 71% of the 1,240 requests over 200 ms"
    )
    assert check_line(_check("p99<500ms", "< 500 ms", 312.0, True)) == (
        "p99<500ms: pass, actual 312 ms (target < 500 ms)"
    )
