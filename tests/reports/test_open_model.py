"""Figures of open-model runs: corrected headline, uncorrected beside it, the sender's accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lagscope.reports.latency import latency_table
from lagscope.reports.open_model import (
    gap_sentence,
    plan_events,
    plan_window,
    sender_figures,
    with_uncorrected,
)


def events(*, cap: bool = False, procs: int = 1) -> pd.DataFrame:
    rows = [{"t": 0.0, "source": "harness", "event": "run_start"}]
    for i in range(procs):
        rows.append({"t": 1.0, "source": "load", "event": "plan_start", "start": 10.0 + i / 1000,
                     "duration_s": 10.0, "slots": 1000 // procs, "rate": "100",
                     "arrivals": "constant", "procs": procs, "max_users": 4})  # fmt: skip
        rows.append({"t": 21.0, "source": "load", "event": "plan_end", "pool_size": 4,
                     "waits_for_user": 7 if cap else 0, "unfinished": 0})  # fmt: skip
    if cap:
        rows.append({"t": 12.0, "source": "load", "event": "user_cap_reached", "max_users": 4})
    return pd.DataFrame(rows)


def requests(lags_ms: list[float], service_ms: float = 2.0) -> pd.DataFrame:
    lag = np.asarray(lags_ms, dtype=float)
    intended = 10.0 + np.arange(lag.size) * 0.01
    return pd.DataFrame({
        "t": intended + lag / 1000, "intended_t": intended, "send_lag_ms": lag,
        "uncorrected_ms": np.full(lag.size, service_ms), "latency_ms": lag + service_ms,
        "method": "GET", "name": "/x", "ok": True,
    })  # fmt: skip


def test_the_window_is_the_plan_from_its_first_slot_to_its_end() -> None:
    window = plan_window(plan_events(events(procs=2)))
    assert window.start == 10.0
    assert window.end == pytest.approx(20.001)
    assert plan_events(pd.DataFrame({"t": [], "event": []})).empty


def test_uncorrected_percentiles_sit_beside_the_corrected_ones() -> None:
    frame = requests([0.0] * 95 + [100.0] * 5)
    table = with_uncorrected(latency_table(frame, seconds=1.0), frame, seconds=1.0)
    for figures in (table["aggregate"], table["endpoints"]["GET /x"]):
        assert figures["max_ms"] == pytest.approx(102.0)
        assert figures["uncorrected"]["max_ms"] == pytest.approx(2.0)
        assert set(figures["uncorrected"]) == {"p50_ms", "p90_ms", "p95_ms", "p99_ms",
                                               "p999_ms", "max_ms"}  # fmt: skip


def test_sender_figures_count_late_sends_and_the_worst_lateness() -> None:
    lags = [0.1] * 990 + [5.0, 9.9, 10.1, 50.0, 80.0] + [0.2] * 5
    figures = sender_figures(requests(lags), events(cap=True), seconds=10.0)
    assert figures["late_sends"] == 3  # more than 10 ms after the slot
    assert figures["worst_lateness_ms"] == pytest.approx(80.0)
    assert figures["send_lag_p50_ms"] == pytest.approx(0.1)
    assert figures["sent_rps"] == pytest.approx(100.0)
    assert figures["planned"] == 1000
    assert figures["cap_reached"] is True
    assert figures["waits_for_user"] == 7
    assert (figures["rate"], figures["arrivals"], figures["procs"]) == ("100", "constant", 1)


def test_the_gap_is_explained_only_when_corrected_and_uncorrected_differ() -> None:
    late = requests([0.0] * 90 + list(np.linspace(20, 100, 10)))
    table = with_uncorrected(latency_table(late, seconds=1.0), late, seconds=1.0)
    sender = sender_figures(late, events(cap=True), seconds=1.0)
    sentence = gap_sentence(table["aggregate"], sender)
    assert sentence is not None
    assert sentence.startswith("Corrected P99 ")
    assert "10 requests were sent more than 10 ms after their slot" in sentence
    assert "--max-users" in sentence
    on_time = requests([0.05] * 100)
    table = with_uncorrected(latency_table(on_time, seconds=1.0), on_time, seconds=1.0)
    assert gap_sentence(table["aggregate"], sender_figures(on_time, events(), seconds=1.0)) is None
