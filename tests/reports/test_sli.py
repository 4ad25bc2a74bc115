"""SLI objectives and per-second counts, on request rows made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lagscope.reports.sli import parse_objective, sli_series

from lagscope.errors import UsageError


def rows(*requests: tuple[float, float, bool], intended: list[float] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(requests, columns=["t", "latency_ms", "ok"])
    if intended is not None:
        frame["intended_t"] = intended
    return frame


@pytest.mark.parametrize(
    ("text", "kind", "target", "threshold"),
    [
        ("p99<300ms", "latency", 0.99, 300.0),
        ("p95 < 0.2s", "latency", 0.95, 200.0),
        ("errors<0.1%", "availability", 0.999, None),
        ("success>=99.5%", "availability", 0.995, None),
    ],
)
def test_objectives_parse_to_a_target_and_a_threshold(
    text: str, kind: str, target: float, threshold: float | None
) -> None:
    objective = parse_objective(text, name="x")
    assert (objective.kind, objective.threshold_ms) == (kind, threshold)
    assert objective.target == pytest.approx(target)
    assert objective.budget == pytest.approx(1 - target)


@pytest.mark.parametrize("text", ["p99>300ms", "errors<2ms", "success<99%", "errors<100%", "rps>5"])
def test_a_bad_objective_is_a_usage_error_naming_it(text: str) -> None:
    with pytest.raises(UsageError, match="SLO 'latency'"):
        parse_objective(text, name="latency")


def test_requests_count_in_the_second_they_completed() -> None:
    t0 = 1000.0
    requests = rows(
        (1000.2, 100.0, True),  # done at 0.3 -> second 0
        (1000.9, 400.0, True),  # done at 1.3 -> second 1, slow
        (1001.5, 10.0, False),  # done at 1.51 -> second 1, failed
        (999.0, 10.0, True),  # done before t0: left out
        (1003.5, 10.0, True),  # done after the last second: left out
    )
    latency = sli_series(requests, parse_objective("p99<300ms", name="l"), t0=t0, seconds=3)
    assert latency.total.tolist() == [1, 2, 0]
    assert latency.bad.tolist() == [0, 1, 0]  # the failed one is availability's business
    errors = sli_series(requests, parse_objective("errors<1%", name="a"), t0=t0, seconds=3)
    assert errors.bad.tolist() == [0, 1, 0]


def test_rate_mode_counts_from_the_intended_send_time() -> None:
    # Sent 0.8 s late (t) but counted from its slot, with the corrected latency.
    requests = rows((1000.9, 950.0, True), intended=[1000.1])
    series = sli_series(requests, parse_objective("p99<300ms", name="l"), t0=1000.0, seconds=3)
    assert series.total.tolist() == [0, 1, 0]  # 1000.1 + 0.95 = 1001.05
    assert series.bad.tolist() == [0, 1, 0]


def test_no_requests_give_zero_series() -> None:
    empty = rows()
    series = sli_series(empty, parse_objective("errors<1%", name="a"), t0=0.0, seconds=4)
    assert np.array_equal(series.total, np.zeros(4))


def test_an_objective_may_cover_some_endpoints_only() -> None:
    requests = rows((1000.0, 500.0, True), (1000.0, 500.0, True))
    requests["method"] = ["GET", "GET"]
    requests["name"] = ["/products", "/products/{id}/stock"]
    browse = parse_objective("p99<300ms", name="browse", endpoints=("GET /products",))
    series = sli_series(requests, browse, t0=1000.0, seconds=1)
    assert (series.total.tolist(), series.bad.tolist()) == ([1], [1])
