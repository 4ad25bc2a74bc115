"""SLO checks in words, the same in the terminal, ``report.md`` and ``report.html``."""

from __future__ import annotations

import operator
from collections.abc import Callable

from lagscope.reports.summary_types import SloCheck, SloSection

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
MAX_DECIMALS = 4
SLO_HEADERS = ["check", "target", "actual", "result", "offending requests"]


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def actual_text(check: SloCheck) -> str:
    """The measured value with its unit, to one decimal more than the target is written
    with (``501.9 ms`` against ``< 200 ms``, ``99.95 %`` against ``>= 99.9 %``), trailing
    zeros dropped; more decimals when rounding would make a failure read as a pass (or the
    reverse). ``nothing measured`` when there was nothing."""
    actual = check["actual"]
    if actual is None:
        return "nothing measured"
    op, target, unit = check["target"].split()
    decimals = _decimals(target) + 1
    text = f"{actual:,.{decimals}f}"
    while (
        decimals < MAX_DECIMALS
        and _OPS[op](float(text.replace(",", "")), float(target)) != (check["passed"])
    ):
        decimals += 1
        text = f"{actual:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}"


def culprit_text(check: SloCheck) -> str | None:
    """``GET /slow made 71% of the 240 requests over 200 ms``; None when none is blamed."""
    culprit = check.get("culprit")
    if not culprit:
        return None
    return (
        f"{culprit['endpoint']} made {culprit['share']:.0%} of the "
        f"{culprit['requests']:,} {culprit['of']}"
    )


def check_line(check: SloCheck) -> str:
    """``p95<200ms: FAIL, actual 501.9 ms (target < 200 ms); GET /slow made 71% of …``."""
    verdict = "pass" if check["passed"] else "FAIL"
    line = f"{check['name']}: {verdict}, actual {actual_text(check)} (target {check['target']})"
    blamed = culprit_text(check)
    return line + (f"; {blamed}" if blamed else "")


def failed_names(slo: SloSection) -> list[str]:
    return [c["name"] for c in slo["checks"] if not c["passed"]]
