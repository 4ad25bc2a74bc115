"""The live view's figures, from rows written by hand and an injected clock (no sleeping)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from lagscope.harness.run.live_view import SETTLE_S, LiveFeed, current_phase, live_figures, render
from lagscope.reports.gameday_file import parse_gameday
from rich.console import Console

from lagscope.request_schema import SCHEMA
from tests.reports.test_gameday import GAME, T0, requests

GAME_DAY = parse_gameday(GAME, source="synthetic.toml")


def test_the_phase_is_the_last_one_started() -> None:
    assert current_phase(GAME_DAY, 0.0) == "warm-up"
    assert current_phase(GAME_DAY, 20.0) == "inject"
    assert current_phase(GAME_DAY, 59.9) == "fix"


def test_alerts_count_only_settled_seconds() -> None:
    rows = requests()
    lag = pd.DataFrame({"t": [T0 + 29.5, T0 + 29.9], "lag_ms": [3.0, 45.0]})
    # At 23.5 s only seconds 0..20 are settled: second 21, which makes the page, is not.
    early = live_figures(GAME_DAY, rows, lag, t0=T0, now=T0 + 21.0 + SETTLE_S + 0.5)
    assert early.alerts == {"fast": False, "errors": False}
    later = live_figures(GAME_DAY, rows, lag, t0=T0, now=T0 + 30.0)
    assert later.alerts == {"fast": True, "errors": False}
    assert later.phase == "inject"
    assert later.rps == 100.0
    assert later.p99_ms == 300.0
    assert later.lag_max_ms == 45.0


def test_before_anything_settled_the_view_shows_no_figures() -> None:
    empty = pd.DataFrame({"t": [], "latency_ms": [], "ok": []})
    figures = live_figures(GAME_DAY, empty, pd.DataFrame(), t0=T0, now=T0 + 0.5)
    assert (figures.rps, figures.p99_ms, figures.lag_max_ms) == (None, None, None)
    console = Console(width=140, record=True)
    console.print(render(GAME_DAY, figures))
    text = console.export_text()
    assert "warm-up" in text
    assert "fast ok" in text


def test_the_feed_reads_each_spool_part_and_lag_line_once(tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    given = {"t": [T0, T0 + 1, T0 + 2], "latency_ms": [5.0] * 3, "method": ["GET"] * 3,
             "name": ["/"] * 3, "status": [200] * 3, "ok": [True] * 3}  # fmt: skip
    rows = {name: given.get(name, [None] * 3) for name in SCHEMA.names}
    pq.write_table(pa.table(rows, schema=SCHEMA), tmp_path / "spool" / "requests-1-00001.parquet")
    worker = tmp_path / "workers" / "42"
    worker.mkdir(parents=True)
    (worker / "lag.csv").write_text(f"t,lag_ms\n{T0},1.5\n{T0 + 1},2.5\n{T0 + 2},")  # torn line
    feed = LiveFeed(tmp_path)
    assert len(feed.requests()) == 3
    assert feed.lag()["lag_ms"].tolist() == [1.5, 2.5]
    with open(worker / "lag.csv", "a") as f:
        f.write("7.5\n")
    assert feed.lag()["lag_ms"].tolist() == [1.5, 2.5, 7.5]
    assert np.array_equal(feed.requests()["t"], [T0, T0 + 1, T0 + 2])
