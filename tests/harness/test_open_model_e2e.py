"""Open-model load end to end: real uvicorn and Locust on loopback, arrivals on a plan.

The oracle is tests/harness/apps/ticker: its loop stalls for exactly 100 ms once a
second. Arrivals at a steady rate that land in a stall wait until it ends, so 10 %
of them wait uniformly 0..100 ms: P95 = 50 ms and P99 = 90 ms, plus the service time
and the drain of the queue after each stall (the arrivals are also on a grid, 5 or
10 ms, whose phase against the stalls is fixed, which moves both by up to one step).
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lagscope.harness.cli.main import main
from lagscope.reports.open_model import tails_differ

from tests.harness.stall_queue import drain_round_trip_ms, late_sends_ceiling, p95_ceiling_ms

APPS = Path(__file__).resolve().parent / "apps"

pytestmark = pytest.mark.e2e


def run(out: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    monkeypatch.chdir(APPS)
    assert main(["run", "--out", str(out), *args]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_corrected_latency_of_a_stalling_loop_matches_the_analytic_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # One user: a coordinated sender, as a closed-loop generator is. During a stall it
    # cannot send; the arrivals queue up and go out when the stall ends, late. They go
    # out one after the other, so the k-th waits k round trips more, and arrivals during
    # the drain queue too. At 100 req/s (10 ms apart) a simulation of this queue gives
    # P95 45–56 ms and P99 83–92 ms for round trips of 0.5–1 ms, 62–74 and 90–98 ms for
    # 3–4 ms (a busy shared machine): the bounds follow the round trip this run measured
    # (tests/harness/stall_queue). At 200 req/s 4 ms round trips leave no slack to drain
    # in, and a CI run saw P95 96 ms: the rate here keeps the queue's share small.
    out = tmp_path / "run"
    summary = run(out, monkeypatch, "--app", "ticker.app:app", "--rate", "100",
                  "--duration", "20s", "--max-users", "1")  # fmt: skip
    printed = capsys.readouterr().out
    loop, agg, sender = summary["loop"], summary["requests"]["aggregate"], summary["open_model"]
    # Precondition: the oracle did stall as designed (else the figures below mean nothing).
    # Its stalls are the ticker's; a busy machine may add a few short ones of its own.
    (ticker,) = [b for b in loop["top_blockers"] if b["function"] == "_stall_every_second"]
    assert 18 <= ticker["count"] <= 22, loop
    assert 90 <= ticker["total_ms"] / ticker["count"] <= 115, loop
    assert agg["count"] == pytest.approx(2000, abs=2)
    requests = pd.read_parquet(out / "requests.parquet")
    stall_ms, round_trip_ms = ticker["total_ms"] / ticker["count"], drain_round_trip_ms(requests)
    assert 40 <= agg["p95_ms"] <= p95_ceiling_ms(stall_ms, round_trip_ms, floor_ms=80), (
        agg, round_trip_ms)  # fmt: skip
    assert 80 <= agg["p99_ms"] <= 108, agg
    # Measured from the actual send the stalls all but vanish: only the one request per
    # stall that was sent into it saw it, 20 of 2,000.  That is 1 %, right at the P99, so
    # the uncorrected P99 lands on a stalled request as soon as a 21st request is slowed
    # (a CI run: 25 ms), and the requests themselves are counted instead.
    uncorrected = agg["uncorrected"]
    assert uncorrected["p95_ms"] < agg["p95_ms"] / 4, uncorrected
    assert uncorrected["max_ms"] >= 80  # it does see the stall once per second
    # (Over 80 ms: a busy machine's own hiccups of 20 ms over 2,000 requests are not these.
    # Counted from their slots, two a stall are over 80 ms, the second sent behind the first.)
    assert abs((requests["uncorrected_ms"] > 80).sum() - ticker["count"]) <= 3, uncorrected
    # ...where the corrected latencies count every arrival the stalls held back (~9 each).
    assert (requests["latency_ms"] > 20).sum() >= 5 * ticker["count"], agg
    # Late sends are counted, never dropped: ~9 of the 10 arrivals in each stall are more
    # than 10 ms late (plus a few behind the queue after it).
    assert sender["cap_reached"] is True
    most = late_sends_ceiling(ticker["count"], stall_ms, round_trip_ms, floor=300)
    assert 120 <= sender["late_sends"] <= most, (sender, round_trip_ms)
    assert 80 <= sender["worst_lateness_ms"] <= 160, sender  # a stall, plus the queue
    assert sender["unfinished"] == 0
    # The gap between the P99s is explained, and the uncorrected tail drawn, when they
    # differ.  They nearly always do; but the one request per stall that was sent into it is
    # 1 % of all, so the uncorrected P99 may land on one and come within 10 % (a CI run).
    differ = tails_differ(agg["p99_ms"], uncorrected["p99_ms"])
    assert ("Corrected P99" in printed) is differ, (agg["p99_ms"], uncorrected["p99_ms"])
    assert "raise --max-users" in printed
    # The page says the same: both rows, the gap explained, both tails on the chart.
    html = (out / "report.html").read_text()
    assert "all, uncorrected" in html
    assert 'id="open-model"' in html
    assert ("Corrected P99" in html) is differ
    assert "raise --max-users" in html
    # The chart's dashed uncorrected P99 is drawn when any second's P99s differ: a second
    # with a stall has ~100 requests of which one was slowed uncorrected, ~9 corrected.
    assert "p99 uncorrected" in html  # the dashed line's legend entry in the latency SVG
    np.testing.assert_allclose(
        requests["latency_ms"], requests["uncorrected_ms"] + requests["send_lag_ms"], atol=1e-6
    )
    assert (requests["send_lag_ms"] >= 0).all()
    np.testing.assert_allclose(
        requests["intended_t"], requests["t"] - requests["send_lag_ms"] / 1e3
    )


def test_enough_users_send_on_time_through_stalls_so_both_figures_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = run(tmp_path / "run", monkeypatch, "--app", "ticker.app:app", "--rate", "200",
                  "--duration", "8s")  # fmt: skip
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert summary["loop"]["stall_count"] >= 7
    # The open model keeps sending during a stall, so the wait is in both figures. The ~20
    # arrivals a stall held are answered one after the other when it ends, s ms apart: P95
    # (the 11th of each stall's) is 45–50 ms + 11·s, and s is 0.5–1.5 ms, more when busy.
    assert 44 <= agg["p95_ms"] <= 80, agg
    assert 80 <= agg["p99_ms"] <= 105, agg
    assert agg["uncorrected"]["p99_ms"] == pytest.approx(agg["p99_ms"], abs=5)
    assert sender["cap_reached"] is False
    assert sender["send_lag_p50_ms"] < 2.0, sender  # the generator's accuracy
    # CI saw 1.4 % late; busy, 4.3 % with two senders
    assert sender["late_sends"] <= 0.04 * agg["count"], sender
    assert sender["pool_size"] >= 20  # ~20 arrivals wait in each stall, one user each


def test_two_load_processes_share_the_plan_and_send_the_total_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    summary = run(out, monkeypatch, "--app", "ticker.app:calm", "--rate", "200",
                  "--duration", "6s", "--load-procs", "2")  # fmt: skip
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert sender["procs"] == 2
    assert sender["sent_rps"] == pytest.approx(200, rel=0.02), sender
    assert agg["count"] == pytest.approx(1200, rel=0.02)
    assert agg["failures"] == 0
    requests = pd.read_parquet(out / "requests.parquet")
    per_process = requests.groupby("pid").size()
    assert len(per_process) == 2
    assert per_process.min() == pytest.approx(600, rel=0.02)
    # Together the processes keep the single plan's spacing (1/200 s between slots).
    slots = np.sort(requests["intended_t"].to_numpy())
    assert np.median(np.diff(slots)) == pytest.approx(1 / 200, rel=0.1)
    # Each process measures its requests from their slots in the shared plan: corrected
    # and uncorrected differ by exactly the send lag, request by request.
    np.testing.assert_allclose(
        requests["latency_ms"], requests["uncorrected_ms"] + requests["send_lag_ms"], atol=1e-6
    )
    assert (requests["send_lag_ms"] >= 0).all()
    # Two senders, the app and this test share 2 cores here: the lag stays small at the
    # median, and few sends are late (CI saw 4.3 % at 300 req/s with the machine busy;
    # the single-process test above checks the sender's accuracy more tightly).
    assert sender["send_lag_p50_ms"] < 2.0, sender
    assert sender["late_sends"] <= 0.05 * agg["count"], sender


def test_closed_mode_over_two_processes_has_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    summary = run(out, monkeypatch, "--app", "ticker.app:calm", "--users", "4",
                  "--duration", "5s", "--load-procs", "2")  # fmt: skip
    assert summary["open_model"] is None
    assert "uncorrected" not in summary["requests"]["aggregate"]
    assert summary["requests"]["aggregate"]["count"] > 100
    requests = pd.read_parquet(out / "requests.parquet")
    assert requests["pid"].nunique() == 2
    assert requests["intended_t"].isna().all()


def test_a_wall_clock_slewed_and_stepped_during_the_run_is_not_lateness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host's wall clock gains 1 % (NTP slewing it; a VM's host correcting its guest)
    # and is stepped 0.3 s forward half-way, for every process of the run (the harness
    # here, Locust and the target through sitecustomize).  The plan is sent by the
    # monotonic clock: measured against wall-clock slots, every send after the step was
    # 300 ms "late" and the corrected P99 took the step for queueing.
    skewed = APPS / "skewed_clock"
    spec = importlib.util.spec_from_file_location("moved_clock", skewed / "sitecustomize.py")
    assert spec is not None
    assert spec.loader is not None
    clock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clock)  # before the variables are set: it moves nothing yet
    moving = {"TEST_CLOCK_SLEW": "0.01", "TEST_CLOCK_STEP_S": "0.3",
              "TEST_CLOCK_STEP_AT_S": "4", "TEST_CLOCK_ANCHOR": repr(time.monotonic())}  # fmt: skip
    for name, value in moving.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(skewed),
                       os.environ.get("PYTHONPATH")])))  # fmt: skip
    monkeypatch.setattr(time, "time", clock.clock_from_env(time.time))
    out = tmp_path / "run"
    summary = run(out, monkeypatch, "--app", "ticker.app:calm", "--rate", "100",
                  "--duration", "6s")  # fmt: skip
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert agg["count"] == sender["planned"] == 600  # every slot inside the plan's window
    assert sender["late_sends"] <= 0.04 * sender["planned"], sender
    assert sender["send_lag_p50_ms"] < 2, sender
    requests = pd.read_parquet(out / "requests.parquet")
    after = requests[requests["t"] - requests["t"].min() > 4.5]  # sent after the step
    assert len(after) > 100
    assert (after["latency_ms"] - after["uncorrected_ms"]).median() < 2


def test_arrivals_with_no_response_when_the_plan_ends_are_failures_not_gaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every response takes 5 s; the plan lasts 2 s and its drain 2 s more.
    out = tmp_path / "run"
    summary = run(out, monkeypatch, "--app", "ticker.app:hanging", "--rate", "10",
                  "--duration", "2s")  # fmt: skip
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert sender["unfinished"] == 20
    assert agg["count"] == 20
    assert agg["failures"] == 20
    assert agg["p50_ms"] >= 2000  # from the slot to the end of the drain, at least
    requests = pd.read_parquet(out / "requests.parquet")
    assert (requests["error"].str.contains("no response 2 s after the plan")).all()


def test_a_scenario_runs_open_with_its_task_weights_on_a_poisson_ramp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    # Up to 160 req/s: shop with the probe takes ~4 ms of CPU a request here, and at 250
    # (then 200, with other work on the machine) its pool of 10 connections queued.
    summary = run(out, monkeypatch, "--app", "shop", "--rate", "40:160", "--arrivals",
                  "poisson", "--duration", "6s", "--seed", "3")  # fmt: skip
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert (sender["rate"], sender["arrivals"]) == ("40:160", "poisson")
    assert agg["count"] == sender["planned"]  # every planned arrival is a request
    assert 530 <= agg["count"] <= 670  # mean 600, σ ≈ 24
    assert agg["failures"] == 0
    requests = pd.read_parquet(out / "requests.parquet")
    offset = requests["intended_t"] - requests["intended_t"].min()
    first, last = (offset < 2).sum(), (offset >= 4).sum()  # means 120 and 280
    assert last > 1.8 * first
    # The shop scenario's weights are 4:3:2:1 (browse, view, order, health).
    share = requests.groupby("name").size() / len(requests)
    assert share["/products"] == pytest.approx(0.4, abs=0.06)
    assert share["/health"] == pytest.approx(0.1, abs=0.04)
