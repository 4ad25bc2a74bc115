"""Leaks judged by shape and relative to the load, on hand-made gauges (150 requests a second
for 10 s, gauges every 250 ms): slow leaks are found with their sites and a projection;
bursts that drain, caches that plateau and busy pools that return are not."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from lagscope.reports.summary import summarize

from tests.reports import frames

N = len(frames.gauges())
T = np.arange(N) * frames.GAUGE_EVERY_S
RNG = np.random.default_rng(3)
SIGNUP = "app/signup.py:41 (welcome)"
REQUESTS = "app/api.py:40 (list_items)"


def kinds(summary: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in summary["diagnosis"]]


def finding(summary: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [f for f in summary["diagnosis"] if f["kind"] == kind]
    return found


def sites(*columns: tuple[str, np.ndarray]) -> list[str]:
    """``tasks_wait_sites`` cells: each sample's counts per site, largest first."""
    cells = []
    for i in range(N):
        counts = {site: int(values[i]) for site, values in columns if values[i] > 0}
        cells.append(json.dumps(dict(sorted(counts.items(), key=lambda kv: -kv[1]))))
    return cells


def test_a_slow_task_leak_at_one_site_is_found_there_while_requests_outnumber_it() -> None:
    in_flight = RNG.integers(10, 25, N)  # requests waiting on the DB, the top site at first
    leaked = (3 * T).astype(int)  # 3 long-lived tasks a second: 0 → 29 in 10 s
    gauges = frames.gauges(
        tasks=4 + in_flight + leaked,
        tasks_wait_top=REQUESTS,
        tasks_wait_count=in_flight,
        tasks_wait_sites=sites((REQUESTS, in_flight), (SIGNUP, leaked)),
        rss_mb=74 + 0.9 * T,
    )
    summary = summarize(frames.run_data(gauge_frame=gauges))
    assert kinds(summary) == ["unbounded_background_tasks"]
    found = finding(summary, "unbounded_background_tasks")
    assert found["location"] == SIGNUP
    assert "Theil–Sen +3." in found["evidence"]
    assert "one task left behind per 50 requests" in found["evidence"]
    # RSS 74 → 83 MB at 0.9 MB/s: 512 MB in about 8 minutes.
    assert "at this rate the worker reaches 512 MB in 8 min" in found["evidence"]


def test_a_burst_of_tasks_that_drains_is_not_a_leak() -> None:
    burst = (300 * np.exp(-(((T - 4) / 1.5) ** 2))).astype(int)
    gauges = frames.gauges(
        tasks=20 + burst, tasks_wait_top=SIGNUP, tasks_wait_count=burst,
        tasks_wait_sites=sites((SIGNUP, burst)),
    )  # fmt: skip
    assert kinds(summarize(frames.run_data(gauge_frame=gauges))) == []


def test_a_cache_that_warms_and_plateaus_is_not_memory_growth() -> None:
    gauges = frames.gauges(rss_mb=90 + 60 * (1 - np.exp(-T / 1.5)))
    assert kinds(summarize(frames.run_data(gauge_frame=gauges))) == []


def test_memory_that_grows_steadily_without_tasks_or_sessions_is_memory_growth() -> None:
    gauges = frames.gauges(rss_mb=90 + 2.0 * T + RNG.normal(0, 0.2, N))
    found = finding(summarize(frames.run_data(gauge_frame=gauges)), "memory_growth")
    assert "(91 → 109 MB)" in found["summary"]  # medians of the 3 samples at each end
    assert "reaches 512 MB in 3 min" in found["summary"]
    assert "13.3 KB kept per request served" in found["evidence"]


def test_memory_growth_below_a_kilobyte_per_request_is_not_reported() -> None:
    gauges = frames.gauges(rss_mb=90 + 0.1 * T)  # 0.7 KB per request at 150 req/s
    assert kinds(summarize(frames.run_data(gauge_frame=gauges))) == []


def test_a_slow_session_leak_is_found_where_sessions_open_with_time_to_exhaustion() -> None:
    held = np.clip(np.floor(0.5 * (T - 2)), 0, None)  # one every 2 s, counted 2 s after
    gauges = frames.gauges(
        db_checked_out=held + RNG.integers(0, 2, N), db_capacity=15,
        db_held_top=np.where(held > 0, "app/repo.py:18 (open_session)", ""), db_held_count=held,
    )  # fmt: skip
    summary = summarize(frames.run_data(gauge_frame=gauges))
    assert kinds(summary) == ["session_leak"]
    found = finding(summary, "session_leak")
    assert found["location"] == "app/repo.py:18 (open_session)"
    assert "pool's 15 connections run out in" in found["evidence"]


def test_a_busy_pool_that_returns_its_connections_is_no_leak() -> None:
    busy = RNG.integers(4, 11, N)
    gauges = frames.gauges(
        db_checked_out=busy, db_capacity=15, db_held_top="", db_held_count=0,
    )  # fmt: skip
    assert kinds(summarize(frames.run_data(gauge_frame=gauges))) == []


def test_a_threadpool_queue_that_grows_steadily_is_saturation_even_if_recent() -> None:
    full = T >= 6  # full for the last 40% of the window, its queue growing meanwhile
    gauges = frames.gauges(
        threads_busy=np.where(full, 40, 10), threads_waiting=np.where(full, 4 * (T - 6), 0)
    )
    found = finding(summarize(frames.run_data(gauge_frame=gauges)), "threadpool_saturation")
    assert "the queue grew steadily" in found["evidence"]
