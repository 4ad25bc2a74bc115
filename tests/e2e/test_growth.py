"""Growth judged by shape on apps that are not shop (tests/e2e/apps/growth.py): slow leaks
are reported with their sites; a burst that drains and a cache that plateaus are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.runs import describe, kinds, lagscope_run

pytestmark = pytest.mark.e2e
APPS = Path(__file__).parent / "apps"
GROWTH = "tests/e2e/apps/growth.py:"
LEAK_KINDS = {"unbounded_background_tasks", "session_leak", "memory_growth"}


def line_of(snippet: str) -> int:
    lines = (APPS / "growth.py").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if snippet in line)


def test_a_slow_task_leak_and_a_slow_session_leak_are_reported_with_their_sites(
    tmp_path: Path,
) -> None:
    # 2 long-lived tasks a second and a leaked session every 2 s, for 20 s.
    summary = lagscope_run(
        tmp_path / "run", "--app", "tests.e2e.apps.growth:leaky",
        "--scenario", str(APPS / "leaky_load.py"), "--duration", "20s",
    )  # fmt: skip
    by_kind = {f["kind"]: f for f in summary["diagnosis"]}
    assert {"unbounded_background_tasks", "session_leak"} <= set(by_kind), describe(summary)
    tasks, sessions = by_kind["unbounded_background_tasks"], by_kind["session_leak"]
    assert tasks["location"] == f"{GROWTH}{line_of('await asyncio.sleep(30)')} (welcome)"
    assert sessions["location"] == f"{GROWTH}{line_of('session = Sessions()')} (report)"
    assert "pool's 30 connections run out in" in sessions["evidence"], describe(summary)
    assert "memory_growth" not in by_kind  # the tasks and sessions explain the memory


def test_a_burst_that_drains_and_a_cache_that_plateaus_are_not_leaks(tmp_path: Path) -> None:
    # 300 tasks at one site at 5 s, all done within 3 s; 100 pages of 200 KB cached for good.
    summary = lagscope_run(
        tmp_path / "run", "--app", "tests.e2e.apps.growth:steady",
        "--scenario", str(APPS / "steady_load.py"), "--duration", "20s",
    )  # fmt: skip
    assert not LEAK_KINDS & set(kinds(summary)), describe(summary)
    (worker,) = summary["app"]["workers"].values()
    assert worker["tasks"]["max"] >= 300, describe(summary)  # the burst happened ...
    assert worker["growth"]["tasks"]["shape"] != "growing"  # ... and drained
    assert worker["rss_mb"]["end"] - worker["rss_mb"]["start"] > 5, describe(summary)
    assert worker["growth"]["rss_mb"]["shape"] != "growing"  # the cache levelled off
