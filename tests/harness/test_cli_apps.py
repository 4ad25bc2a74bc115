"""``lagscope apps``: the built-in app, each fault, its one-line description and how to run it."""

from __future__ import annotations

import pytest
from lagscope.harness.cli.main import main
from lagscope.target_apps.shop.faults import CATALOGUE


def test_apps_lists_shop_and_every_fault_with_its_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("shop — ")
    for fault in CATALOGUE.values():
        assert f"--fault {fault.name} " in out
        assert fault.summary in out
        assert (
            f"finding: {fault.finding}; reproduce: lagscope run --app shop --fault {fault.name}"
            in out
        )


def test_apps_and_gameday_list_lists_every_built_in_game_day_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lagscope.scenarios import gamedays

    assert main(["gameday", "--list"]) == 0
    listed = capsys.readouterr().out
    assert main(["apps"]) == 0
    apps = capsys.readouterr().out
    assert set(gamedays()) == {
        "blocking_deploy", "connection_leak", "dependency_slows_down", "slow_dependency",
    }  # fmt: skip
    for name in gamedays():
        line = next(line for line in listed.splitlines() if line.split()[:1] == [name])
        assert line in apps
    assert "90s  Event-loop blocking after a deploy" in listed


def test_catalogue_has_a_module_per_fault_with_broken_and_fixed_code() -> None:
    import importlib
    import inspect

    for name in CATALOGUE:
        module = importlib.import_module(f"lagscope.target_apps.shop.faults.{name}")
        source = inspect.getsource(module)
        assert module.__doc__, name
        assert "fix" in module.__doc__.lower(), name
        assert "SEEDED FAULT" in source, name


def test_memory_cap_flag_rejects_a_non_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--memory-cap", "lots", "--duration", "1s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lagscope: error: --memory-cap: 'lots' is not a memory size")
    assert len(err.strip().splitlines()) == 1
