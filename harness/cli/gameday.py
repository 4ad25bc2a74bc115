"""``lagscope gameday FILE``: flags and command (kept apart from the ``run`` CLI)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "gameday",
        help="run a scripted incident exercise: faults switched live, SLO burn-rate alerts",
        description="Run a game day (scenarios/gamedays/*.toml): load as in 'lagscope run', "
        "faults switched at the timeline's times without a restart, SLO burn-rate alerts "
        "evaluated live; reports time to detect, time to mitigate and error budget consumed. "
        "Exit 0 when every expectation holds, 1 when one fails, 2 for a bad file, "
        "130 when interrupted.",
    )
    p.add_argument(
        "file", type=Path, help="game-day file, e.g. scenarios/gamedays/blocking_deploy.toml"
    )
    p.add_argument(
        "--out", type=Path, help="run directory (default runs/<time>-<app>-gameday-<file>)"
    )
    p.add_argument(
        "--app",
        help="the app to exercise, 'module:attr' (or shop), instead of the file's [load] app",
    )


def cmd_gameday(args: argparse.Namespace) -> int:
    from lagscope.harness.run.conductor import Conductor, copy_file, run_config
    from lagscope.harness.run.orchestrator import run
    from lagscope.reports.build import build
    from lagscope.reports.gameday_file import load_gameday
    from lagscope.reports.renderers.terminal import print_summary

    game = load_gameday(args.file)
    config = run_config(game, out=args.out, app=args.app)
    print(f"lagscope: game day {game.title!r} ({game.duration_s:g}s) → {config.out}",
          file=sys.stderr, flush=True)  # fmt: skip
    run_dir = run(config, conductor=Conductor(game), prepare=copy_file(game))
    summary = build(run_dir)
    print_summary(summary)
    if summary["run"]["outcome"] == "interrupted":
        return 130
    failed = [e for e in summary["gameday"]["expectations"] if not e["passed"]]
    for e in failed:
        print(f"lagscope: expectation failed: {e['text']} ({e['actual']})", file=sys.stderr)
    return 1 if failed or not summary["gameday"].get("started") else 0
