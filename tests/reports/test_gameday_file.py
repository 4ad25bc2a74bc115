"""Game-day files: the shipped ones parse, and every mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.reports.gameday_file import load_gameday, parse_gameday

from lagscope.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios" / "gamedays").glob("*.toml"))

MINIMAL = """
title = "tiny"
expect = ["alert fast fires within 10s of inject"]
[load]
rate = 20
[slo]
time_scale = 60
period = "30d"
latency = "p99<100ms"
[[alert]]
name = "fast"
slo = "latency"
long_window = "1h"
short_window = "5m"
burn_rate = 14.4
[[phase]]
at = "0s"
name = "warm-up"
[[phase]]
at = "5s"
name = "inject"
role = "inject"
faults = ["blocking_io"]
[[phase]]
at = "10s"
name = "fix"
role = "fix"
faults = []
[[phase]]
at = "15s"
name = "end"
"""


def test_every_shipped_game_day_parses_and_stays_short() -> None:
    assert len(SHIPPED) >= 3
    for path in SHIPPED:
        game = load_gameday(path)
        assert game.narrative, path
        assert game.duration_s <= 120, path
        assert {p.role for p in game.phases} >= {"inject", "fix"}, path
        assert game.expectations, path


def test_alert_windows_and_the_period_are_scaled_to_the_exercise() -> None:
    game = parse_gameday(MINIMAL, source="tiny.toml")
    (rule,) = game.rules
    assert (rule.long_s, rule.short_s, rule.factor, rule.severity) == (60, 5, 14.4, "page")
    assert game.period_s == 30 * 86400 / 60
    assert [p.at_s for p in game.phases] == [0, 5, 10, 15]
    assert game.phases[1].faults == ("blocking_io",)
    assert game.phases[2].faults == ()
    assert game.phases[0].faults is None
    assert game.load.rate == "20"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("burn_rate = 14.4", "burn_rate = 'x'"), "burn_rate must be a int or float"),
        (('slo = "latency"', 'slo = "errors"'), "slo 'errors' is not declared"),
        (('short_window = "5m"', 'short_window = "2h"'), "short_window must not be longer"),
        (('short_window = "5m"', 'short_window = "10s"'), "make it >= 1 s"),
        (('at = "5s"', 'at = "12s"'), "fix at 10s must come after inject"),
        (('at = "15s"', 'at = "400s"'), "lasts at most 300s"),
        (('name = "end"', 'name = "stop"'), 'the last phase must be name = "end"'),
        (("within 10s of inject", "within 10s of deploy"), "no phase named 'deploy'"),
        (("alert fast fires", "alert slow fires"), "no alert named 'slow'"),
        (("fires within 10s", "fires soon"), "is not understood"),
        (('latency = "p99<100ms"', 'latency = "p99>100ms"'), "a latency objective is"),
        (("rate = 20", "rate = 'fast'"), "rate 'fast' must be requests/s"),
        (("rate = 20", "rat = 20"), "unknown key 'rat'"),
        (("rate = 20", "rate = 20\narrivals = 'burst'"), "arrivals 'burst' must be"),
        (("rate = 20", "rate = 20\nload_procs = 0"), "load_procs must be greater than zero"),
        (('role = "fix"', 'role = "inject"'), "only one phase may have role = 'inject'"),
        (('period = "30d"', 'period = "thirty"'), "is not a duration"),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_and_what_to_fix(
    edit: tuple[str, str], message: str
) -> None:
    text = MINIMAL.replace(*edit, 1)
    with pytest.raises(UsageError) as caught:
        parse_gameday(text, source="tiny.toml")
    assert str(caught.value).startswith("tiny.toml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_invalid_toml_and_a_missing_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not valid TOML"):
        parse_gameday("title = ", source="x.toml")
    with pytest.raises(UsageError, match="does not exist"):
        load_gameday(tmp_path / "nope.toml")


def test_an_slo_may_name_the_endpoints_it_covers() -> None:
    text = MINIMAL.replace(
        'latency = "p99<100ms"',
        'latency = { objective = "p99<100ms", endpoints = ["GET /products"] }',
    )
    (objective,) = parse_gameday(text, source="tiny.toml").objectives
    assert objective.endpoints == ("GET /products",)
    assert objective.threshold_ms == 100.0
    with pytest.raises(UsageError, match=r"\[slo\] latency: unknown key 'only'"):
        parse_gameday(text.replace("endpoints =", "only ="), source="tiny.toml")


LOOP_BLOCK = 'inject = [{ kind = "loop_block", block = "100ms", every = "1s" }]'
INJECTING = MINIMAL.replace('faults = ["blocking_io"]', LOOP_BLOCK).replace(
    "faults = []", "clear = true"
)


def test_phases_inject_into_any_app_and_clear() -> None:
    game = parse_gameday(INJECTING.replace("rate = 20", 'app = "mine.main:app"\nrate = 20'),
                         source="g.toml")  # fmt: skip
    inject, fix = game.phases[1], game.phases[2]
    assert [i.describe() for i in inject.inject or ()] == ["loop_block block=100ms every=1s"]
    assert inject.describe() == ["inject: loop_block block=100ms every=1s"]
    assert fix.inject == ()
    assert fix.describe() == ["injections cleared"]
    assert game.phases[0].inject is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('block = "100ms"', 'block = "100x"'),
         "g.toml: [[phase]] inject: inject #1: block: '100x' is not a duration"),
        (('kind = "loop_block"', 'kind = "loop_blok"'),
         "g.toml: [[phase]] inject: inject #1: kind 'loop_blok' is unknown"),
        (("clear = true", "clear = true\ninject = []"),
         "g.toml: [[phase]] fix: clear = true and inject together"),
        (("clear = true", 'clear = "yes"'), "g.toml: [[phase]] fix: clear must be a bool"),
    ],
)  # fmt: skip
def test_a_bad_injection_names_the_file_the_phase_and_the_key(
    edit: tuple[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_gameday(INJECTING.replace(*edit), source="g.toml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
