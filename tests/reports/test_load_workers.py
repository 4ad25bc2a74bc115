"""Remote load workers in the summary: each one's requests, clock and fate, from the events."""

from __future__ import annotations

import pandas as pd
from lagscope.reports.load_workers import load_worker_figures, load_workers_note
from lagscope.reports.remote_checks import inside_view_missing, load_workers_lost

EVENTS = pd.DataFrame([
    {"t": 100.0, "source": "harness", "event": "run_start"},
    {"t": 102.0, "source": "load", "event": "load_worker_joined", "load_worker": "b",
     "index": 1, "offset_ms": 2990.0},
    {"t": 102.0, "source": "load", "event": "load_worker_joined", "load_worker": "a",
     "index": 0, "offset_ms": 0.2},
    {"t": 106.5, "source": "load", "event": "load_worker_lost", "load_worker": "b",
     "index": 1, "records": 40, "last_heard": 103.2},
    {"t": 110.0, "source": "load", "event": "load_worker_clock", "load_worker": "a",
     "index": 0, "offset_ms": 0.05, "uncertainty_ms": 0.3},
    {"t": 110.0, "source": "load", "event": "load_worker_clock", "load_worker": "b",
     "index": 1, "offset_ms": 3000.1, "uncertainty_ms": 0.4},
])  # fmt: skip
REQUESTS = pd.DataFrame({"load_worker": ["a"] * 5 + ["b"] * 2})


def test_each_worker_has_its_requests_clock_and_fate_in_index_order() -> None:
    figures = load_worker_figures(EVENTS, REQUESTS, start=100.0)
    assert figures == [
        {"name": "a", "index": 0, "requests": 5, "clock_offset_ms": 0.05,
         "clock_uncertainty_ms": 0.3, "lost_after_s": None},
        {"name": "b", "index": 1, "requests": 2, "clock_offset_ms": 3000.1,
         "clock_uncertainty_ms": 0.4, "lost_after_s": 6.5},
    ]  # fmt: skip
    (note,) = load_workers_note(figures)
    assert "b 2 requests (clock +3000.10 ± 0.40 ms, lost at 6.5 s)" in note["message"]


def test_local_load_has_no_load_workers_section() -> None:
    events = EVENTS.loc[EVENTS["event"] == "run_start"]
    assert load_worker_figures(events, REQUESTS, start=100.0) == []
    assert load_workers_note([]) == []


def test_a_lost_worker_is_named_with_when_and_what_is_kept() -> None:
    (warning,) = load_workers_lost(EVENTS, start=100.0)
    assert warning["message"].startswith(
        "Load worker b (index 1) was lost 6.5 s into the run (last heard from 3.2 s in); its 40 "
        "requests recorded"
    )


def test_an_external_target_without_probe_data_says_the_inside_view_is_missing() -> None:
    config = {"target": "http://127.0.0.2:8000", "probe_token": None}
    (warning,) = inside_view_missing(config, probed_workers=0)
    assert "no --probe-token was given" in warning["message"]
    with_token = {**config, "probe_token": "****"}
    assert "answered nothing" in inside_view_missing(with_token, probed_workers=0)[0]["message"]
    assert inside_view_missing(config, probed_workers=2) == []
    assert inside_view_missing({"target": None}, probed_workers=0) == []
