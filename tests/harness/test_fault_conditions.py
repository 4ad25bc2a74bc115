"""A fault brings the run conditions it needs; explicit flags win; the run says which."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.harness.cli.main import build_parser, config_from_args, main
from lagscope.harness.run.config import fault_conditions
from lagscope.target_apps.shop.faults import CATALOGUE

from lagscope import defaults


def config(tmp_path: Path, *argv: str):  # type: ignore[no-untyped-def]
    args = build_parser().parse_args(["run", "--out", str(tmp_path / "run"), *argv])
    return config_from_args(args)


def test_a_fault_sets_its_conditions_and_the_config_records_them(tmp_path: Path) -> None:
    found = config(tmp_path, "--fault", "slow_downstream")
    assert found.downstream_latency_ms == 3000.0
    assert found.conditions == (("slow_downstream", "--downstream-latency", "3s"),)
    assert found.to_json()["conditions"] == [
        {"fault": "slow_downstream", "flag": "--downstream-latency", "value": "3s"}
    ]


def test_an_explicit_flag_wins_over_the_faults_condition(tmp_path: Path) -> None:
    found = config(tmp_path, "--fault", "slow_downstream", "--downstream-latency", "50ms")
    assert found.downstream_latency_ms == 50.0
    assert found.conditions == ()


def test_several_conditions_of_one_fault_and_a_partial_override(tmp_path: Path) -> None:
    found = config(tmp_path, "--fault", "threadpool_starvation", "--threadpool", "40")
    assert found.threadpool == 40
    assert found.downstream_stock_latency_ms == 800.0  # the other condition still applies
    assert [flag for _, flag, _ in found.conditions] == ["--downstream-stock-latency"]


def test_without_a_fault_the_defaults_hold(tmp_path: Path) -> None:
    found = config(tmp_path)
    assert (found.downstream_latency_ms, found.downstream_stock_latency_ms) == (
        defaults.DOWNSTREAM_LATENCY_MS, defaults.DOWNSTREAM_STOCK_LATENCY_MS,
    )  # fmt: skip
    assert (found.relay_latency_ms, found.threadpool, found.conditions) == (
        defaults.RELAY_LATENCY_MS, None, (),
    )  # fmt: skip


def test_the_first_fault_named_wins_a_shared_flag() -> None:
    values, applied = fault_conditions(["unbounded_tasks", "slow_downstream"], {})
    assert values == {"--relay-latency": "250ms", "--downstream-latency": "3s"}
    assert [fault for fault, _, _ in applied] == ["unbounded_tasks", "slow_downstream"]


def test_every_condition_names_a_run_flag_with_a_valid_value(tmp_path: Path) -> None:
    flags = {a.option_strings[0] for a in build_parser()._actions[1].choices["run"]._actions
             if a.option_strings}  # fmt: skip
    for fault in CATALOGUE.values():
        for flag, _ in fault.conditions:
            assert flag in flags, (fault.name, flag)
        if fault.conditions:
            config(tmp_path / fault.name, "--fault", fault.name)  # parses, or raises


def test_apps_says_which_conditions_each_fault_sets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    assert "sets --downstream-latency 3s unless given: the payments API degrades" in out
