"""The flags beyond one machine refuse what cannot work, in one line (exit 2), before any load."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.harness.cli.main import main

SCENARIO = str(Path(__file__).resolve().parent / "apps" / "remote" / "scenario.py")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "http://10.0.0.8:8000"],
         "--target http://10.0.0.8:8000 is not a loopback address; pass --allow-remote-target"),
        (["--target", "ftp://127.0.0.1/"], "is not an http(s) URL"),
        (["--target", "http://127.0.0.2:8000", "--fault", "blocking_io"],
         "--fault act on a server lagscope starts; drop them with --target"),
        (["--probe-token", "s3cret"], "--probe-token is for a --target's probe; add --target URL"),
        (["--load-workers", "2"], "--load-workers needs --master-bind ADDR:PORT"),
        (["--load-workers", "2", "--master-bind", "127.0.0.4"], "is not ADDR:PORT"),
        (["--master-bind", "127.0.0.4:5557"], "--master-bind is for --load-workers N"),
        (["--load-workers", "2", "--master-bind", "127.0.0.4:5557", "--load-procs", "2"],
         "--load-workers and --load-procs exclude each other"),
        (["--target", "http://127.0.0.2:8000", "--load-workers", "2",
          "--master-bind", "127.0.0.4:5557"], "give --scenario a built-in scenario"),
    ],
)  # fmt: skip
def test_a_remote_flag_that_cannot_work_is_refused_in_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--out", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_a_remote_target_is_accepted_with_the_opt_in(tmp_path: Path) -> None:
    from lagscope.harness.cli.main import build_parser, config_from_args

    args = build_parser().parse_args([
        "run", "--out", str(tmp_path / "run"), "--target", "http://10.0.0.8:8000/",
        "--allow-remote-target", "--probe-token", "s3cret", "--scenario", SCENARIO,
    ])  # fmt: skip
    config = config_from_args(args)
    assert (config.target, config.app, config.probe) == (
        "http://10.0.0.8:8000",
        "http://10.0.0.8:8000",
        True,
    )
    assert config.to_json()["probe_token"] != "s3cret"  # run.json never holds the token
