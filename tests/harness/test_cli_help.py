"""``--help`` is plain text and states every default; ``lagscope apps`` and the README agree."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from lagscope.harness.cli.main import build_parser, reproduce_command
from lagscope.target_apps.shop.faults import CATALOGUE

README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = ["run", "report", "compare", "apps", "sweep", "gameday"]


def subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = sub.choices[name]
    return found


def flat(text: str) -> str:
    """Help text with its line wrapping undone."""
    return " ".join(text.split())


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_plain_text_without_rest_markup(command: str | None) -> None:
    parser = build_parser() if command is None else subparser(command)
    assert "``" not in parser.format_help()


@pytest.mark.parametrize("command", ["run", "sweep"])
def help_of(action: argparse.Action) -> str:
    return flat((action.help or "") % vars(action))


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_help_states_the_default_of_every_option_that_has_one(command: str) -> None:
    for action in subparser(command)._actions:
        if action.default in (None, False, [], argparse.SUPPRESS) or not action.option_strings:
            continue
        shown = f"{action.default:g}" if isinstance(action.default, float) else action.default
        assert f"(default: {shown})" in help_of(action), action.option_strings


def test_run_help_states_the_defaults_the_load_model_fills_in() -> None:
    actions = {a.option_strings[0]: a for a in subparser("run")._actions if a.option_strings}
    for flag, default in [("--users", "20"), ("--spawn-rate", "20"), ("--max-users", "1000"),
                          ("--arrivals", "constant"),
                          ("--threadpool", "anyio's 40, unless a --fault sets it"),
                          ("--downstream-latency", "50ms, unless a --fault sets it"),
                          ("--relay-latency", "50ms, unless a --fault sets it")]:  # fmt: skip
        assert f"default: {default})" in help_of(actions[flag]), flag


def test_run_help_says_what_a_bare_number_means() -> None:
    text = flat(subparser("run").format_help())
    assert "a bare number is seconds (default: 30s)" in text
    assert "a bare number is ms (default: 20ms)" in text


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_apps_reproduce_commands_are_the_fault_flag_alone_quoted_by_the_readme(name: str) -> None:
    command = reproduce_command(CATALOGUE[name])
    assert (
        command == f"lagscope run --app shop --fault {name} --duration 12s"
    )  # conditions: its own
    assert f"$ {command}\n" in README.read_text(encoding="utf-8")
