"""The diagnosis rules on hand-made data: each fault's signature yields its kind, health none."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lagscope.reports.summary import summarize

from tests.reports import frames

N = len(frames.gauges())
# A stall of the loop in the user's code, as the watchdog records it.
CPU_STALL = {"pid": 4242, "duration_ms": 60.0, "lag_ms": 55.0, "samples": 20, "cpu_share": 0.95,
             "cause": "cpu", "location": "app/auth.py:14", "function": "hash_password",
             "in_user_code": True, "endpoint": "POST /login",
             "stacks": [{"count": 20, "location": "app/auth.py:14", "function": "hash_password",
                         "endpoint": "POST /login", "in_user_code": True,
                         "frames": [["app/auth.py", 14, "hash_password", True]]}]}  # fmt: skip


def kinds(summary: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in summary["diagnosis"]]


def only(summary: dict[str, Any], kind: str) -> dict[str, Any]:
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == kind]
    for key in ("summary", "evidence", "location", "remedy"):
        assert finding[key], key
    return finding


def with_status(status: int, share: float, endpoint: str = "POST /orders") -> pd.DataFrame:
    reqs = frames.requests()
    method, name = endpoint.split(" ")
    rows = reqs.index[(reqs["method"] == method) & (reqs["name"] == name)]
    hit = rows[: int(len(reqs) * share)]
    reqs.loc[hit, "status"] = status
    reqs.loc[hit, "ok"] = status < 400
    reqs.loc[hit, "bytes"] = 3500
    reqs.loc[hit, "error"] = f"code={status}"
    return reqs


def test_healthy_data_yields_no_findings() -> None:
    assert summarize(frames.run_data())["diagnosis"] == []


def test_pool_full_with_waiters_is_connection_pool_exhaustion_and_says_it_leaks() -> None:
    data = frames.run_data(
        gauge_frame=frames.gauges(
            db_checked_out=10, db_waiting=15, requests_wait_top="app/db.py:7 (get_item)"
        ),
        request_frame=with_status(500, 0.2, "GET /products"),
    )
    finding = only(summarize(data), "connection_pool_exhaustion")
    assert finding["severity"] == "critical"
    assert "all 10 connections checked out in 100%" in finding["evidence"]
    assert "up to 15 callers waiting" in finding["evidence"]
    assert "leaked" in finding["summary"]
    assert finding["location"] == "app/db.py:7 (get_item)"


def test_a_briefly_full_pool_is_not_exhaustion() -> None:
    busy = np.where(np.arange(N) < N // 5, 10, 2)  # full for the first fifth only
    data = frames.run_data(gauge_frame=frames.gauges(db_checked_out=busy, db_waiting=busy // 10))
    assert "connection_pool_exhaustion" not in kinds(summarize(data))


@pytest.mark.parametrize("busy", [np.where(np.arange(N) % 3 == 0, 4, 10), np.full(N, 10)],
                         ids=["comes back", "full whenever sampled"])  # fmt: skip
def test_a_pool_that_fills_behind_a_blocked_loop_is_left_to_event_loop_blocking(
    busy: np.ndarray[Any, Any],
) -> None:
    # Requests holding connections wait for the loop; once it runs, they give them back.
    # The sampler runs on that loop too: between stalls it may find the pool always full.
    rows = [{**CPU_STALL, "start": frames.T0 + 0.5 * i, "duration_ms": 120.0} for i in range(40)]
    gauge_frame = frames.gauges(db_checked_out=busy, db_waiting=5)
    data = frames.run_data(gauge_frame=gauge_frame, stall_frame=frames.stalls(rows))
    assert kinds(summarize(data)) == ["event_loop_blocking"]
    # The same pool with the loop free is exhaustion.
    pool_only = summarize(frames.run_data(gauge_frame=gauge_frame))
    assert kinds(pool_only) == ["connection_pool_exhaustion"]


def test_a_leak_behind_a_blocked_loop_is_still_a_leak() -> None:
    # Sessions still open 2 s after they opened: not requests waiting for the loop.
    rows = [{**CPU_STALL, "start": frames.T0 + 0.5 * i, "duration_ms": 120.0} for i in range(40)]
    gauge_frame = frames.gauges(db_checked_out=10, db_waiting=5, db_held_count=10,
                                db_held_top="app/db.py:7 (get_session)")  # fmt: skip
    data = frames.run_data(gauge_frame=gauge_frame, stall_frame=frames.stalls(rows))
    leak = only(summarize(data), "connection_pool_exhaustion")
    assert leak["location"] == "app/db.py:7 (get_session)"


def test_steadily_growing_tasks_are_unbounded_background_tasks() -> None:
    tasks = np.linspace(20, 900, N).astype(int)
    data = frames.run_data(
        gauge_frame=frames.gauges(
            tasks=tasks,
            tasks_wait_count=tasks - 20,
            tasks_wait_top="app/mail.py:31 (send)",
            rss_mb=np.linspace(90, 300, N),
        )  # fmt: skip
    )
    finding = only(summarize(data), "unbounded_background_tasks")
    assert finding["location"] == "app/mail.py:31 (send)"
    assert "pending tasks 42 → 877" in finding["evidence"]  # medians of 3 samples at each end


def test_many_but_stable_tasks_are_not_unbounded() -> None:
    data = frames.run_data(gauge_frame=frames.gauges(tasks=400 + np.arange(N) % 7))
    assert kinds(summarize(data)) == []


def test_busy_threadpool_with_queue_is_threadpool_saturation_not_slow_dependency() -> None:
    reqs = frames.requests()
    reqs.loc[reqs["name"] == "/products/{id}", "latency_ms"] = 2500.0
    data = frames.run_data(
        gauge_frame=frames.gauges(threads_busy=40, threads_waiting=25),
        request_frame=reqs,
    )
    summary = summarize(data)
    assert kinds(summary) == ["threadpool_saturation"]
    finding = only(summary, "threadpool_saturation")
    assert finding["endpoint"] == "GET /products/{id}"
    assert "all 40 threads busy in 100%" in finding["evidence"]


def test_slow_endpoint_with_idle_process_is_slow_dependency() -> None:
    reqs = frames.requests()
    reqs.loc[reqs["name"] == "/orders", "latency_ms"] = 3000.0
    data = frames.run_data(
        request_frame=reqs,
        gauge_frame=frames.gauges(
            requests_wait_endpoint="POST /orders", requests_wait_top="app/pay.py:9 (charge)"
        ),
    )
    finding = only(summarize(data), "slow_dependency")
    assert finding["endpoint"] == "POST /orders"
    assert finding["location"] == "app/pay.py:9 (charge)"
    assert "p50 3,000 ms" in finding["evidence"]


def test_every_endpoint_slow_on_a_shared_dependency_is_one_slow_dependency() -> None:
    # Every endpoint calls the same backend: none is fast to compare with.  The process is
    # idle (no stall, no pool full) and the requests wait at the app's outbound call.
    data = frames.run_data(
        request_frame=frames.requests(latency_ms=1500.0),
        gauge_frame=frames.gauges(
            requests_wait_endpoint="POST /orders", requests_wait_top="app/client.py:13 (quote)"
        ),
    )
    (finding,) = summarize(data)["diagnosis"]
    assert finding["kind"] == "slow_dependency"
    assert finding["summary"] == (
        "Every endpoint spends its time waiting on something outside the process, at "
        "app/client.py:13 (quote)."
    )
    assert finding["location"] == "app/client.py:13 (quote)"
    assert "no pool exhausted" in finding["evidence"]


def test_every_endpoint_slow_with_no_sight_of_where_they_wait_is_no_finding() -> None:
    gauges = frames.gauges(requests_wait_endpoint="", requests_wait_top="")
    data = frames.run_data(request_frame=frames.requests(latency_ms=1500.0), gauge_frame=gauges)
    assert kinds(summarize(data)) == []


def test_every_endpoint_slow_behind_a_lagging_loop_is_not_a_slow_dependency() -> None:
    # The loop lags 400 ms at its P99, over a tenth of the latency: the requests queue in
    # the process itself, whatever they wait for besides.
    data = frames.run_data(request_frame=frames.requests(latency_ms=1500.0))
    lag = data.lag.assign(lag_ms=np.where(np.arange(len(data.lag)) % 20 == 0, 400.0, 0.3))
    assert "slow_dependency" not in kinds(summarize(dataclasses.replace(data, lag=lag)))


def test_uniformly_slow_service_under_one_second_is_not_a_slow_dependency() -> None:
    data = frames.run_data(request_frame=frames.requests(latency_ms=600.0))
    assert kinds(summarize(data)) == []


def test_many_log_records_per_request_are_a_log_flood() -> None:
    records = np.arange(N) * 300  # 1,200 records a second for 150 requests a second
    data = frames.run_data(
        gauge_frame=frames.gauges(
            log_records=records, log_bytes=records * 300, log_top="app/api.py:88"
        )  # fmt: skip
    )
    finding = only(summarize(data), "log_flood")
    assert finding["location"] == "app/api.py:88"


def test_an_access_line_per_request_is_not_a_log_flood() -> None:
    records = np.arange(N) * 37  # ~1 record per request
    data = frames.run_data(gauge_frame=frames.gauges(log_records=records, log_bytes=records * 120))
    assert kinds(summarize(data)) == []


def test_500s_are_server_errors_with_a_hint_at_leaked_tracebacks() -> None:
    finding = only(
        summarize(frames.run_data(request_frame=with_status(500, 0.03))), "server_errors"
    )
    assert finding["endpoint"] == "POST /orders"
    assert "carry no stack trace" in finding["evidence"]


def test_server_errors_name_the_exception_and_the_line_it_was_raised_at() -> None:
    # Two workers' exceptions.json: the same kind in both is one kind, counted once each.
    kind = {"type": "ZeroDivisionError", "message": "division by zero",
            "site": "app/pricing.py:21", "endpoint": "POST /orders"}  # fmt: skip
    other = {"type": "KeyError", "message": "'sku'", "site": "", "endpoint": "POST /orders"}
    exceptions = pd.DataFrame([
        {"pid": 1, **kind, "count": 40}, {"pid": 2, **kind, "count": 35},
        {"pid": 2, **other, "count": 3},
    ])  # fmt: skip
    data = dataclasses.replace(
        frames.run_data(request_frame=with_status(500, 0.03)), exceptions=exceptions
    )
    summary = summarize(data)
    assert [k["count"] for k in summary["statuses"]["unhandled"]] == [75, 3]
    finding = only(summary, "server_errors")
    assert finding["location"] == "app/pricing.py:21"
    assert finding["summary"].endswith(
        "most on POST /orders: ZeroDivisionError: division by zero raised at app/pricing.py:21."
    )
    assert (
        "exceptions that escaped the app over the run, by kind: 75× ZeroDivisionError at "
        "app/pricing.py:21, 3× KeyError at POST /orders"
    ) in finding["evidence"]


@pytest.mark.parametrize("status", [422, 404])
def test_client_errors_are_not_server_errors(status: int) -> None:
    # a tenth of all requests, a third of POST /orders': client_errors says so (test_client_errors)
    found = kinds(summarize(frames.run_data(request_frame=with_status(status, 0.1))))
    assert found == ["client_errors"]


def test_503s_are_load_shedding_not_server_errors() -> None:
    requests = with_status(503, 0.1)
    finding = only(summarize(frames.run_data(request_frame=requests)), "load_shedding")
    assert finding["severity"] == "warning"
    assert finding["endpoint"] == "POST /orders"
    shed = int((requests["status"] == 503).sum())
    orders = int(((requests["method"] == "POST") & (requests["name"] == "/orders")).sum())
    assert f"{shed} of {len(requests):,} responses" in finding["evidence"]
    assert f"POST /orders: {shed} of its {orders:,}" in finding["evidence"]


def test_a_few_503s_are_no_finding() -> None:
    assert kinds(summarize(frames.run_data(request_frame=with_status(503, 0.002)))) == []


def test_cpu_bound_stalls_give_event_loop_blocking_with_cause_cpu() -> None:
    rows = [{**CPU_STALL, "start": frames.T0 + 0.5 * i} for i in range(10)]
    finding = only(
        summarize(frames.run_data(stall_frame=frames.stalls(rows))), "event_loop_blocking"
    )
    assert finding["cause"] == "cpu"
    assert finding["location"] == "app/auth.py:14"


def test_memory_cap_hit_is_reported() -> None:
    data = frames.run_data(gauge_frame=frames.gauges(rss_mb=np.linspace(90, 210, N)),
                           memory_cap_mb=200.0)  # fmt: skip
    safety = summarize(data)["safety"]
    assert safety["cap_hit"] is True
    assert safety["workers_at_cap"] == ["4242"]
    assert summarize(frames.run_data())["safety"]["cap_hit"] is False


def test_gauges_from_another_probe_with_other_columns_are_read_without_findings() -> None:
    other = frames.gauges()[["t", "pid"]].assign(pool_waiters=1, tasks_pending=12)
    summary = summarize(frames.run_data(gauge_frame=other))
    assert summary["diagnosis"] == []
    assert summary["app"]["workers"]["4242"]["tasks"] == {}


def test_a_run_with_no_request_in_its_window_is_a_critical_finding_not_a_clean_bill() -> None:
    # the target served (its heartbeats are there) but no request landed in the window
    summary = summarize(frames.run_data(request_frame=frames.requests(n=0)))
    finding = only(summary, "no_requests")
    assert finding["severity"] == "critical"
    assert finding["location"] == "logs/locust.log"
    assert "collected no requests in its steady window" in finding["summary"]
    assert "0 requests and 1,000 heartbeats recorded" in finding["evidence"]
