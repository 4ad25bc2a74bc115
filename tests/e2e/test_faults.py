"""Every seeded fault of shop, on real processes, from its flag alone: on, it yields its
finding; off, none of the table's kinds.

``lagscope run --app shop --fault NAME --duration 12s``: default scenario and users; a
fault sets the conditions it needs (``Fault.conditions``).  With every fault off, the
healthy mix yields no finding at all, and the fixed twins under every fault's conditions
at once (given as flags) yield none of the table's kinds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lagscope.target_apps.shop.faults import CATALOGUE

from tests.e2e.runs import describe, kinds, lagscope_run

pytestmark = pytest.mark.e2e

DURATION = "12s"  # the README's and `lagscope apps`' reproduce command
TABLE_KINDS = {fault.finding for fault in CATALOGUE.values()}
CAUSE = {"blocking_io": "wait", "cpu_bound": "cpu"}
SITE = {  # where the finding must point
    "blocking_io": "target_apps/shop/faults/blocking_io.py:",
    "cpu_bound": "target_apps/shop/faults/cpu_bound.py:",
    "connection_leak": "target_apps/shop/faults/connection_leak.py:",
    "unbounded_tasks": "target_apps/shop/faults/unbounded_tasks.py:",
    "gc_pressure": "<gc gen2>",
    "schema_drift": "POST /login",
    "unhandled_errors": "target_apps/shop/faults/unhandled_errors.py:",  # the raising line
}
POSTGRES_ENV = "LAGSCOPE_TEST_POSTGRES_URL"


def found(summary: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(f for f in summary["diagnosis"] if f["kind"] == kind)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_on_yields_its_finding_from_its_flag_alone(tmp_path: Path, name: str) -> None:
    fault = CATALOGUE[name]
    summary = lagscope_run(tmp_path / "run", "--fault", name, "--duration", DURATION)
    assert fault.finding in kinds(summary), describe(summary)
    finding = found(summary, fault.finding)
    if name in CAUSE:
        assert finding["cause"] == CAUSE[name], describe(summary)
    if name in SITE:
        assert finding["location"].startswith(SITE[name]), describe(summary)
    if name == "schema_drift":
        assert "`body.email`" in finding["summary"], describe(summary)
    assert [(c["flag"], c["value"]) for c in summary["run"]["conditions"]] == list(fault.conditions)
    for key in ("summary", "evidence", "location", "remedy"):
        assert finding[key]


def test_healthy_shop_under_the_realistic_mix_yields_no_findings(tmp_path: Path) -> None:
    # ... and meets the default SLOs (lagscope_run asserts exit 0: a failed SLO exits 1).
    summary = lagscope_run(tmp_path / "run", "--slo", "default", "--duration", DURATION)
    assert summary["diagnosis"] == [], describe(summary)
    assert summary["requests"]["aggregate"]["count"] > 200  # the mix really ran


# Every condition a fault sets, at once, with every fault off: the fixed code under stress.
TWIN_FLAGS = [part for fault in CATALOGUE.values() for c in fault.conditions for part in c]


def test_fixed_twins_under_every_faults_conditions_yield_none_of_the_kinds(tmp_path: Path) -> None:
    assert TWIN_FLAGS  # e.g. --downstream-latency 3s --threadpool 3 ...
    summary = lagscope_run(tmp_path / "run", *TWIN_FLAGS, "--duration", DURATION)
    assert not TABLE_KINDS & set(kinds(summary)), describe(summary)
    assert summary["run"]["conditions"] == []  # given as flags, not set by a fault


def test_growing_fault_stops_at_the_memory_cap_and_the_run_says_so(tmp_path: Path) -> None:
    cap_mb = 160.0
    summary = lagscope_run(
        tmp_path / "run", "--fault", "unbounded_tasks", "--scenario", "orders",
        "--memory-cap", f"{cap_mb:g}MB", "--duration", "10s",  # 5 s fell short on a busy machine
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
