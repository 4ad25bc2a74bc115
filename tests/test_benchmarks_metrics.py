"""benchmarks/metrics_overhead.py still runs (one short round; it prints figures, asserts
no timing). Kept apart from test_benchmarks.py: it starts real runs, so it is e2e."""

from __future__ import annotations

import re

import pytest

from tests.test_benchmarks import run

pytestmark = pytest.mark.e2e


def test_metrics_benchmark_prints_medians_and_paired_ratios() -> None:
    out = run("metrics_overhead.py", "--rounds", "1", "--duration", "2s", "--users", "4")
    assert re.search(r"round 1 metrics on : +[\d.]+ req/s .* \d+ scrapes", out), out
    assert re.search(r"paired rounds \(metrics vs alone\): throughput [+-][\d.]+%", out), out
