"""SLOs as Prometheus rules: what is generated, promtool's check, and promtool's unit tests
(the fast-burn alerts fire and resolve on synthetic series)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lagscope.reports import prom_rules
from lagscope.reports.gameday_file import load_gameday
from lagscope.reports.renderers.rules_yaml import render_rules
from lagscope.reports.slo_spec import parse_slos

from lagscope import metric_names as names
from lagscope.errors import UsageError
from tests.prometheus.promtool import run_promtool

REPO = Path(__file__).resolve().parents[2]


def default_rules(*texts: str, time_scale: float = 1.0) -> prom_rules.RuleSet:
    objectives, notes = prom_rules.objectives_from_slos(parse_slos(texts or ("default",)))
    return prom_rules.build_rules(objectives, notes=notes, time_scale=time_scale)


def write(tmp_path: Path, ruleset: prom_rules.RuleSet, name: str = "slo.yml") -> Path:
    path = tmp_path / name
    path.write_text(render_rules(ruleset.groups, header=["test"]), encoding="utf-8")
    return path


def alerts(ruleset: prom_rules.RuleSet) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in ruleset.groups for r in g["rules"] if "alert" in r}


def test_default_slos_get_the_workbooks_three_windows_each() -> None:
    found = alerts(default_rules())
    assert sorted(found) == sorted(
        f"Slo{o}{r}"
        for o in ("Availability", "LatencyP95", "LatencyP99")
        for r in ("FastBurn", "SlowBurn", "BudgetBurn")
    )
    fast = found["SloLatencyP99FastBurn"]
    assert fast["labels"] == {"severity": "page", "burn_rule": "fast-burn"}
    assert 'ratio_rate1h{slo="latency_p99"} > 14.4 * 0.01' in fast["expr"]
    assert 'ratio_rate5m{slo="latency_p99"} > 14.4 * 0.01' in fast["expr"]
    assert found["SloAvailabilitySlowBurn"]["expr"].count("> 6 * 0.001") == 2


def test_factors_scale_with_the_period() -> None:
    objectives, _ = prom_rules.objectives_from_slos(parse_slos(["errors<1%"]))
    rules, _ = prom_rules.workbook_rules(objectives, period_s=28 * 86400)
    assert [r.factor for r in rules] == [13.44, 5.6, 0.9333]


def test_a_rule_the_objective_cannot_reach_is_left_out_and_said() -> None:
    ruleset = default_rules("p50<100ms")
    assert sorted(alerts(ruleset)) == ["SloLatencyP50BudgetBurn"]
    assert any("fast-burn needs a burn rate of 14.4x" in n for n in ruleset.notes)


def test_checks_that_are_not_objectives_are_noted() -> None:
    ruleset = default_rules("rps>100", "max<1s", "errors<0.1%")
    assert sorted(alerts(ruleset)) == [f"SloAvailability{r}" for r in
                                        ("BudgetBurn", "FastBurn", "SlowBurn")]  # fmt: skip
    assert len(ruleset.notes) == 2


def test_a_latency_threshold_must_be_a_bucket() -> None:
    with pytest.raises(UsageError, match="170 ms is not a bucket.*150ms, 200ms"):
        default_rules("p99<170ms")


def test_latency_counts_the_requests_over_the_thresholds_bucket() -> None:
    objectives, _ = prom_rules.objectives_from_slos(parse_slos(["p99<1s"]))
    expr = prom_rules.bad_ratio_expr(objectives[0], "5m")
    assert f'{names.HTTP_DURATION}_bucket{{le="1.0"}}[5m]' in expr


def test_an_objective_over_some_endpoints_selects_each_exactly() -> None:
    game = load_gameday(REPO / "scenarios/gamedays/blocking_deploy.toml")
    latency = game.objective("latency")
    expr = prom_rules.bad_ratio_expr(latency, "5m")
    assert 'method="GET",route="/products/{product_id}",le="0.15"' in expr
    assert 'method="POST",route="/orders",le="0.15"' in expr
    assert " or " in expr


def test_a_game_days_rules_come_back_in_production_time() -> None:
    game = load_gameday(REPO / "scenarios/gamedays/blocking_deploy.toml")
    rules = prom_rules.gameday_rules(game.rules, time_scale=game.time_scale)
    assert {(r.name, r.long_s, r.short_s) for r in rules} == {
        ("fast-burn", 3600, 300), ("slow-burn", 21600, 1800), ("errors-fast-burn", 3600, 300)
    }  # fmt: skip


def test_time_scale_shrinks_windows_and_refuses_sub_second_ones() -> None:
    fast = alerts(default_rules(time_scale=60))["SloAvailabilityFastBurn"]
    assert "ratio_rate1m{" in fast["expr"]
    assert "ratio_rate5s{" in fast["expr"]
    with pytest.raises(UsageError, match="use a smaller --time-scale"):
        default_rules(time_scale=600)


def test_durations_read_as_prometheus_writes_them() -> None:
    assert [prom_rules.duration(s) for s in (300, 3600, 90, 1.5, 259200)] == [
        "5m", "1h", "90s", "1500ms", "3d"
    ]  # fmt: skip


def test_the_rendered_file_is_the_groups_as_yaml() -> None:
    ruleset = default_rules()
    assert yaml.safe_load(render_rules(ruleset.groups)) == {"groups": ruleset.groups}


def test_promtool_accepts_the_default_rules(tmp_path: Path) -> None:
    out = run_promtool("check", "rules", write(tmp_path, default_rules()))
    assert "SUCCESS" in out


def test_promtool_accepts_every_shipped_game_days_rules(tmp_path: Path) -> None:
    for path in sorted((REPO / "scenarios/gamedays").glob("*.toml")):
        game = load_gameday(path)
        rules = prom_rules.gameday_rules(game.rules, time_scale=game.time_scale)
        ruleset = prom_rules.build_rules(
            game.objectives, rules, period_s=game.period_s * game.time_scale
        )
        run_promtool("check", "rules", write(tmp_path, ruleset, f"{path.stem}.yml"))


def _expected_alert(ruleset: prom_rules.RuleSet, name: str, slo: str, objective: str) -> Any:
    rule = alerts(ruleset)[name]
    return {
        "exp_labels": {"slo": slo, "objective": objective, **rule["labels"]},
        "exp_annotations": rule["annotations"],
    }


def test_promtool_unit_tests_fast_burn_fires_and_resolves(tmp_path: Path) -> None:
    """Synthetic series, a minute apart: 100 good requests a minute for three hours; from
    minute 60 to 120 also 10 errors a minute (9 % bad: 90x the 0.1 % budget), and 40 of
    every 100 requests slower than 500 ms (the p99 budget burns 40x).  The fast-burn alerts
    wait for their hour to hold 2 % of the budget, fire, and resolve within minutes of the
    end (their 5 m window clears), though their 1 h window still remembers the incident."""
    ruleset = default_rules()
    rules_file = write(tmp_path, ruleset)
    ok = {"method": "GET", "route": "/products"}

    def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
        inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return {"series": f"{name}{{{inner}}}", "values": values}

    requests, duration = names.HTTP_REQUESTS, names.HTTP_DURATION
    test = {
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                series(requests, {**ok, "status": "200"}, "0+100x180"),
                series(requests, {**ok, "status": "500"}, "0+0x60 10+10x59 600+0x60"),
                series(f"{duration}_count", ok, "0+110x180"),
                series(f"{duration}_bucket", {**ok, "le": "0.5"},
                       "0+110x60 6670+70x59 10800+110x60"),  # fmt: skip
            ],
            "alert_rule_test": [
                {"eval_time": "65m", "alertname": "SloAvailabilityFastBurn", "exp_alerts": []},
                {"eval_time": "75m", "alertname": "SloAvailabilityFastBurn",
                 "exp_alerts": [_expected_alert(ruleset, "SloAvailabilityFastBurn",
                                                "availability", "success>=99.9%")]},
                {"eval_time": "115m", "alertname": "SloLatencyP99FastBurn",
                 "exp_alerts": [_expected_alert(ruleset, "SloLatencyP99FastBurn",
                                                "latency_p99", "p99<500ms")]},
                {"eval_time": "130m", "alertname": "SloAvailabilityFastBurn", "exp_alerts": []},
                {"eval_time": "130m", "alertname": "SloLatencyP99FastBurn", "exp_alerts": []},
            ],  # fmt: skip
            "promql_expr_test": [
                {"expr": 'lagscope:slo_bad:ratio_rate1h{slo="availability"} > 0.0144',
                 "eval_time": "130m",
                 "exp_samples": [{"labels": 'lagscope:slo_bad:ratio_rate1h{slo="availability",'
                                            'objective="success>=99.9%"}',
                                  "value": 500 / 6500}]},
            ],  # fmt: skip
        }, {
            # No 5xx series at all: the availability SLI is 0 bad, not "no data".
            "interval": "1m",
            "input_series": [series(requests, {**ok, "status": "200"}, "0+100x20")],
            "promql_expr_test": [
                {"expr": 'lagscope:slo_bad:ratio_rate5m{slo="availability"}', "eval_time": "10m",
                 "exp_samples": [{"labels": 'lagscope:slo_bad:ratio_rate5m{slo="availability",'
                                            'objective="success>=99.9%"}', "value": 0}]},
                {"expr": 'lagscope:slo_error_budget:remaining_ratio{slo="availability"}',
                 "eval_time": "10m",
                 "exp_samples": [{"labels": 'lagscope:slo_error_budget:remaining_ratio{'
                                            'slo="availability",objective="success>=99.9%"}',
                                  "value": 1}]},
            ],
        }],
    }  # fmt: skip
    test_file = tmp_path / "slo_test.yml"
    test_file.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    out = run_promtool("test", "rules", test_file)
    assert "SUCCESS" in out
