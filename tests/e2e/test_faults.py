"""Every seeded fault of shop, on real processes: on, it yields its finding; off, none of them.

Each fault's reproduce flags (``CATALOGUE[...].reproduce``, also shown by ``lagscope apps``
and the README) are used both with the fault on and, with the fault off, as its twin.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from lagscope.target_apps.shop.faults import CATALOGUE

from tests.e2e.runs import describe, kinds, lagscope_run

pytestmark = pytest.mark.e2e

TABLE_KINDS = {fault.finding for fault in CATALOGUE.values()}
CAUSE = {"blocking_io": "wait", "cpu_bound": "cpu"}
POSTGRES_ENV = "LAGSCOPE_TEST_POSTGRES_URL"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_on_yields_its_finding(tmp_path: Path, name: str) -> None:
    fault = CATALOGUE[name]
    summary = lagscope_run(tmp_path / "run", "--fault", name, *shlex.split(fault.reproduce))
    assert fault.finding in kinds(summary), describe(summary)
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == fault.finding][:1]
    if name in CAUSE:
        assert finding["cause"] == CAUSE[name], describe(summary)
    if name in CAUSE or name == "connection_leak":  # the seeded line's module is named
        assert finding["location"].startswith(f"target_apps/shop/faults/{name}.py:"), describe(
            summary
        )
    for key in ("summary", "evidence", "location", "remedy"):
        assert finding[key]


TWINS = sorted({fault.reproduce for fault in CATALOGUE.values() if fault.reproduce})


def test_healthy_shop_under_the_realistic_mix_yields_no_findings(tmp_path: Path) -> None:
    # ... and meets the default SLOs (lagscope_run asserts exit 0: a failed SLO exits 1).
    summary = lagscope_run(tmp_path / "run", "--slo", "default")
    assert summary["diagnosis"] == [], describe(summary)
    assert summary["requests"]["aggregate"]["count"] > 200  # the mix really ran


@pytest.mark.parametrize("flags", TWINS)
def test_fixed_twins_under_each_stress_yield_none_of_the_fault_kinds(
    tmp_path: Path, flags: str
) -> None:
    summary = lagscope_run(tmp_path / "run", *shlex.split(flags))
    assert not TABLE_KINDS & set(kinds(summary)), describe(summary)


def test_growing_fault_stops_at_the_memory_cap_and_the_run_says_so(tmp_path: Path) -> None:
    cap_mb = 160.0
    summary = lagscope_run(
        tmp_path / "run", "--fault", "unbounded_tasks", "--scenario", "orders",
        "--memory-cap", f"{cap_mb:g}MB",
    )  # fmt: skip
    safety = summary["safety"]
    assert safety["cap_hit"] is True, describe(summary)
    # RSS is checked every 100 ms while receipts of 256 KB pile up: a few MB past the cap.
    assert cap_mb <= safety["rss_mb_max"] < cap_mb + 40, safety
    assert "memory cap of 160 mb hit" in (tmp_path / "run" / "report.md").read_text().lower()


def test_connection_leak_on_postgresql_yields_pool_exhaustion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"no PostgreSQL server: set {POSTGRES_ENV}=postgresql+asyncpg://USER@127.0.0.1:PORT/DB"
            " (bash .ci/run starts a throwaway server and sets it)"
        )
    monkeypatch.setenv("DATABASE_URL", url)
    summary = lagscope_run(tmp_path / "run", "--fault", "connection_leak")
    assert "connection_pool_exhaustion" in kinds(summary), describe(summary)
    worker = next(iter(summary["app"]["workers"].values()))
    assert worker["db"]["dialects"] == "postgresql"
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == "connection_pool_exhaustion"]
    assert finding["location"].startswith("target_apps/shop/faults/connection_leak.py:")
