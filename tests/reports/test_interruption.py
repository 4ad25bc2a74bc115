"""An interrupted run says so, and for how long the load ran, before its figures."""

from __future__ import annotations

import pandas as pd
import pytest
from lagscope.reports.renderers.tables import interruption_line
from lagscope.reports.summary import interrupted_after_s

T0 = 1_800_000_000.0


def events(*rows: tuple[float, str]) -> pd.DataFrame:
    return pd.DataFrame([{"t": T0 + t, "source": "harness", "event": e} for t, e in rows])


def test_seconds_of_load_count_from_the_load_start_to_the_interruption() -> None:
    timeline = events((0.0, "run_start"), (3.0, "load_start"), (7.34, "interrupted"),
                      (11.0, "run_end"))  # fmt: skip
    assert interrupted_after_s(timeline) == pytest.approx(4.3)


def test_an_interruption_before_the_load_started_is_zero_seconds_of_load() -> None:
    assert interrupted_after_s(events((0.0, "run_start"), (2.0, "interrupted"))) == 0.0


def test_a_run_that_was_not_interrupted_has_no_such_figure() -> None:
    assert interrupted_after_s(events((0.0, "load_start"), (5.0, "run_end"))) is None
    assert interrupted_after_s(pd.DataFrame()) is None


@pytest.mark.parametrize(
    ("run", "line"),
    [
        ({"outcome": "completed", "interrupted_after_s": None}, None),
        ({"outcome": "interrupted", "interrupted_after_s": 4.3, "duration_s": 60.0},
         "Interrupted after 4.3 s of the 60 s load: the report covers what was collected "
         "until then."),
        ({"outcome": "interrupted", "interrupted_after_s": 0.0, "duration_s": 60.0},
         "Interrupted before the load started: there is nothing to measure."),
        ({"outcome": "interrupted"},
         "Interrupted: the report covers what was collected until then."),
    ],
)  # fmt: skip
def test_the_interruption_line_says_how_much_load_ran(
    run: dict[str, object], line: str | None
) -> None:
    assert interruption_line(run) == line
