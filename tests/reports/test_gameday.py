"""Game-day figures on request rows made by hand: detect, mitigate, budget, expectations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lagscope.reports.gameday import Timeline, budget_consumed, gameday_figures, recovered_at
from lagscope.reports.gameday_file import parse_gameday
from lagscope.reports.renderers.gameday_chart import gameday_figure, gameday_png, mark_gameday
from lagscope.reports.sli import SliSeries
from matplotlib.figure import Figure

T0 = 1_700_000_000.0
GAME = """
title = "synthetic"
expect = [
  "alert fast fires within 5s of inject",
  "alert fast resolves within 5s of fix",
  "slo latency recovers within 2s of fix",
  "alert errors never fires",
  "slo latency budget consumed below 1%",
]
[slo]
period = "1000s"
recovery_window = "3s"
latency = "p99<100ms"
availability = "errors<1%"
[[alert]]
name = "fast"
slo = "latency"
long_window = "10s"
short_window = "2s"
burn_rate = 5
[[alert]]
name = "errors"
slo = "availability"
long_window = "10s"
short_window = "2s"
burn_rate = 5
[[phase]]
at = "0s"
name = "warm-up"
[[phase]]
at = "20s"
name = "inject"
role = "inject"
faults = ["blocking_io"]
[[phase]]
at = "40s"
name = "fix"
role = "fix"
faults = []
[[phase]]
at = "60s"
name = "end"
"""


def requests(seconds: int = 60, *, slow_from: int = 20, slow_to: int = 40) -> pd.DataFrame:
    """100 requests a second of 10 ms; half of them 300 ms in [slow_from, slow_to)."""
    sent = np.repeat(np.arange(seconds, dtype=float), 100) + np.tile(np.arange(100) / 200, seconds)
    latency = np.full(sent.size, 10.0)
    second = np.floor(sent).astype(int)
    slow = (second >= slow_from) & (second < slow_to) & (np.arange(sent.size) % 2 == 0)
    latency[slow] = 300.0
    return pd.DataFrame({"t": T0 + sent, "latency_ms": latency, "ok": True})


def test_recovered_at_is_the_first_second_of_a_whole_good_window() -> None:
    bad = np.zeros(30, dtype=np.int64)
    bad[[10, 11, 14, 25]] = 50  # the blip at 25 comes after the recovery: it does not undo it
    series = SliSeries(bad=bad, total=np.full(30, 100, dtype=np.int64))
    assert recovered_at(series, budget=0.01, start=10, end=30, window_s=3) == 15.0
    assert recovered_at(series, budget=0.01, start=10, end=30, window_s=2) == 12.0
    assert recovered_at(series, budget=0.01, start=15.4, end=30, window_s=3) == 15.4
    assert recovered_at(series, budget=0.01, start=10, end=15, window_s=3) is None


def test_budget_consumed_scales_the_bad_share_by_the_period() -> None:
    bad = np.zeros(100, dtype=np.int64)
    bad[:10] = 10  # 100 bad of 10,000: 1 %, i.e. burn rate 1 at a 99 % objective
    series = SliSeries(bad=bad, total=np.full(100, 100, dtype=np.int64))
    assert budget_consumed(series, budget=0.01, period_s=1000) == pytest.approx(0.1)


def test_a_synthetic_incident_is_detected_mitigated_and_judged() -> None:
    game = parse_gameday(GAME, source="synthetic.toml")
    timeline = Timeline(t0=T0, phases={"warm-up": 0.0, "inject": 20.0, "fix": 40.0}, end=60.0)
    figures = gameday_figures(game, requests(), timeline)
    (fast, errors) = figures["alerts"]
    # Slow requests complete 0.3 s after they are sent, so second 20's slow ones count
    # in second 20 (sent before 20.7): same as the burn-rate test's incident.
    assert fast["transitions"] == [{"at": 22.0, "firing": True}, {"at": 42.0, "firing": False}]
    assert errors["transitions"] == []
    assert figures["time_to_detect_s"] == 2.0
    # The last slow requests (sent in second 39 up to 39.495) complete by 39.8: second 40
    # is clean, so the SLI is back within objective at the fix.
    assert figures["time_to_mitigate_s"] == 0.0
    # 1000 slow of 6000 over 60 s: share/budget = 16.7, times 60/1000 of the period.
    assert figures["error_budget_consumed"]["latency"] == pytest.approx(1000 / 6000 / 0.01 * 0.06)
    assert [e["passed"] for e in figures["expectations"]] == [True, True, True, True, False]
    assert figures["passed"] is False
    assert figures["expectations"][4]["actual"] == "100% of the budget consumed"


def test_a_fault_that_outlives_the_fix_is_not_mitigated() -> None:
    game = parse_gameday(GAME, source="synthetic.toml")
    timeline = Timeline(t0=T0, phases={"warm-up": 0.0, "inject": 20.0, "fix": 40.0}, end=60.0)
    figures = gameday_figures(game, requests(slow_to=60), timeline)
    assert figures["time_to_mitigate_s"] is None
    assert figures["expectations"][2] == {
        "text": "slo latency recovers within 2s of fix",
        "passed": False,
        "actual": "not back within objective after fix",
    }


def test_the_timeline_chart_is_drawn_from_the_summary_section(tmp_path: Path) -> None:
    game = parse_gameday(GAME, source="synthetic.toml")
    timeline = Timeline(t0=T0, phases={"warm-up": 0.0, "inject": 20.0, "fix": 40.0}, end=60.0)
    section = json.loads(json.dumps(gameday_figures(game, requests(), timeline)))  # as saved
    figure = gameday_figure(section)
    traffic, burn = figure.axes
    assert [t.get_text() for t in traffic.texts] == ["warm-up", "inject", "fix"]
    fired_and_resolved = {line.get_xdata()[0] for line in burn.lines if line.get_xdata()[0] > 0}
    assert {22.0, 42.0} <= fired_and_resolved
    (tmp_path / "gameday.png").write_bytes(gameday_png(section))
    assert (tmp_path / "gameday.png").read_bytes().startswith(b"\x89PNG")


def test_a_game_day_without_alerts_is_charted_too(tmp_path: Path) -> None:
    slos, phases = (
        GAME[GAME.index("[slo]") : GAME.index("[[alert]]")],
        GAME[GAME.index("[[phase]]") :],
    )
    game = parse_gameday('title = "no alerts"\n' + slos + phases, source="no-alerts.toml")
    timeline = Timeline(t0=T0, phases={"warm-up": 0.0, "inject": 20.0, "fix": 40.0}, end=60.0)
    section = gameday_figures(game, requests(), timeline)
    (tmp_path / "gameday.png").write_bytes(gameday_png(section))  # warnings are errors here
    assert (tmp_path / "gameday.png").read_bytes().startswith(b"\x89PNG")


def test_every_chart_of_the_run_gets_the_phases_and_the_alert_changes() -> None:
    game = parse_gameday(GAME, source="synthetic.toml")
    timeline = Timeline(t0=T0, phases={"warm-up": 0.0, "inject": 20.0, "fix": 40.0}, end=60.0)
    section = gameday_figures(game, requests(), timeline)
    charts = {"a": Figure(), "b": Figure()}
    charts["a"].subplots(2, 1)
    charts["b"].subplots(1, 1)
    mark_gameday(charts, section, offset=3.0)  # the charts count from 3 s before the exercise
    for figure in charts.values():
        for i, ax in enumerate(figure.axes):
            starts = sorted(line.get_xdata()[0] for line in ax.lines)
            assert starts == [3.0, 23.0, 25.0, 43.0, 45.0]  # phases; fired 22, resolved 42
            assert len(ax.patches) == 3  # one shade per phase
            assert [t.get_text() for t in ax.texts] == (
                ["warm-up", "inject", "fix"] if i == 0 else []
            )
