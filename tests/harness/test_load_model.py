"""The load-model flags: --users (closed) or --rate (open), checked before anything starts."""

from __future__ import annotations

import pytest
from lagscope.harness.cli.main import build_parser, config_from_args, main
from lagscope.harness.run.config import RunConfig

from lagscope.arrivals import Rate


def config(*args: str) -> RunConfig:
    return config_from_args(build_parser().parse_args(["run", *args]))


def test_closed_mode_is_the_default_with_20_users() -> None:
    cfg = config()
    assert (cfg.users, cfg.spawn_rate, cfg.rate, cfg.open_model) == (20, 20.0, None, False)


def test_rate_mode_reads_rate_ramp_arrivals_cap_and_processes() -> None:
    cfg = config("--rate", "50:500", "--arrivals", "poisson", "--max-users", "64",
                 "--load-procs", "2")  # fmt: skip
    assert cfg.open_model
    assert cfg.rate == Rate(50.0, 500.0)
    assert (cfg.arrivals, cfg.max_users, cfg.load_procs, cfg.users) == ("poisson", 64, 2, None)
    assert cfg.to_json()["rate"] == "50:500"
    assert config("--rate", "200").arrivals == "constant"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rate", "200", "--users", "10"], "--rate (open model) and --users (closed model)"),
        (["--rate", "200", "--spawn-rate", "5"], "drop --spawn-rate"),
        (["--arrivals", "poisson"], "--arrivals applies to the open model only; add --rate"),
        (["--max-users", "5"], "--max-users applies to the open model only"),
        (["--rate", "lots"], "is not a rate; give requests per second"),
        (["--rate", "50:"], "or a linear ramp START:END"),
        (["--rate", "0"], "must be greater than zero"),
        (["--rate", "100", "--max-users", "0"], "--max-users must be greater than zero"),
        (["--rate", "100", "--arrivals", "bursty"], "invalid choice: 'bursty'"),
        (["--load-procs", "0"], "--load-procs must be greater than zero"),
    ],
)
def test_bad_load_flags_are_one_line_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("lagscope: error: ")
    assert says in err
    assert "Traceback" not in err


def test_help_documents_the_open_model_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = capsys.readouterr().out
    for flag in ("--rate", "--arrivals", "--max-users", "--load-procs"):
        assert flag in text
