"""SLO checks: the accepted text, the errors, and the verdict on a summary's aggregate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from lagscope.reports.latency import latency_table
from lagscope.reports.slo import check_slos
from lagscope.reports.slo_spec import parse_slo, parse_slos

from lagscope.errors import UsageError
from tests.reports import frames

AGG = {"count": 1000, "failures": 2, "rps": 50.0, "p95_ms": 150.0, "p99_ms": 600.0,
       "p50_ms": 10.0, "p90_ms": 100.0, "p999_ms": 900.0, "max_ms": 950.0}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "metric", "op", "target", "unit"),
    [
        ("p99<500ms", "p99", "<", 500.0, "ms"),
        ("P99 <= 0.5s", "p99", "<=", 500.0, "ms"),
        ("p99.9<1s", "p99.9", "<", 1000.0, "ms"),
        ("errors<0.1%", "errors", "<", 0.1, "%"),
        ("errors<0.001", "errors", "<", 0.1, "%"),
        ("success>=99.9%", "success", ">=", 99.9, "%"),
        ("rps>100", "rps", ">", 100.0, "rps"),
    ],
)
def test_parse_slo_accepts_the_documented_forms(
    text: str, metric: str, op: str, target: float, unit: str
) -> None:
    slo = parse_slo(text)
    assert (slo.metric, slo.op, slo.unit) == (metric, op, unit)
    assert slo.target == pytest.approx(target)


@pytest.mark.parametrize("text", ["p99", "p99<<5", "latency<5ms", "p99<5%", "errors<5ms", ""])
def test_parse_slo_rejects_bad_text_with_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="SLO|--slo"):
        parse_slo(text)


def test_default_expands_to_the_operations_guide_targets() -> None:
    names = [s.name for s in parse_slos(["default", "# a comment", "  "])]
    assert names == ["success>=99.9%", "p95<200ms", "p99<500ms"]


def test_check_slos_names_each_check_with_target_actual_and_result() -> None:
    result = check_slos(parse_slos(["p95<200ms", "p99<500ms", "errors<0.1%"]), AGG)
    assert result is not None
    assert result["passed"] is False
    by_name = {c["name"]: c for c in result["checks"]}
    assert by_name["p95<200ms"]["passed"] is True
    assert by_name["p99<500ms"] == {
        "name": "p99<500ms", "target": "< 500 ms", "actual": 600.0, "unit": "ms", "passed": False,
        "culprit": None,  # no request rows given
    }  # fmt: skip
    assert by_name["errors<0.1%"]["actual"] == pytest.approx(0.2)
    assert by_name["errors<0.1%"]["passed"] is False


def test_no_slos_means_no_verdict_and_no_requests_fails_every_check() -> None:
    assert check_slos([], AGG) is None
    empty = check_slos(parse_slos(["p99<500ms", "success>=99%"]), {"count": 0, "p99_ms": None})
    assert empty is not None
    assert not empty["passed"]
    assert all(c["actual"] is None for c in empty["checks"])


def _judged(texts: list[str], requests: pd.DataFrame) -> dict[str, dict[str, Any]]:
    aggregate = latency_table(requests, seconds=frames.SECONDS)["aggregate"]
    result = check_slos(parse_slos(texts), aggregate, requests=requests)
    assert result is not None
    return {c["name"]: c for c in result["checks"]}


def test_a_failed_latency_check_names_the_endpoint_most_slow_requests_came_from() -> None:
    requests = frames.requests(n=1500, latency_ms=5.0)
    orders = requests["name"] == "/orders"
    requests.loc[orders & (np.arange(len(requests)) % 10 == 0), "latency_ms"] = 900.0  # 50 rows
    requests.loc[[0, 1, 3], "latency_ms"] = 700.0  # and three on the other endpoints
    check = _judged(["p99<500ms"], requests)["p99<500ms"]
    assert check["passed"] is False
    assert check["culprit"] == {
        "endpoint": "POST /orders", "share": pytest.approx(50 / 53, abs=1e-4), "requests": 53,
        "of": "requests over 500 ms",
    }  # fmt: skip


def test_a_failed_error_check_names_the_endpoint_that_failed_most() -> None:
    requests = frames.requests(n=1500)
    requests.loc[requests["name"] == "/products", "ok"] = False
    check = _judged(["success>=99.9%"], requests)["success>=99.9%"]
    assert check["culprit"]["endpoint"] == "GET /products"
    assert check["culprit"]["share"] == 1.0
    assert check["culprit"]["of"] == "failed requests"


def test_a_passing_check_and_a_throughput_check_blame_no_endpoint() -> None:
    checks = _judged(["p99<10s", "rps>100000"], frames.requests(n=300))
    assert checks["p99<10000ms"]["passed"] is True
    assert checks["p99<10000ms"]["culprit"] is None
    assert checks["rps>100000"]["passed"] is False
    assert checks["rps>100000"]["culprit"] is None  # no single request is too slow a rate
