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
        "3 when the machine cut it short (a full disk, a dead load generator), "
        "130 when interrupted.",
    )
    p.add_argument(
        "file", type=Path, help="game-day file, e.g. scenarios/gamedays/blocking_deploy.toml"
    )
    p.add_argument(
        "--out", type=Path, help="run directory (default runs/<time>-<app>-gameday-<file>)"
    )


def cmd_gameday(args: argparse.Namespace) -> int:
    from lagscope.harness.cli import notices
    from lagscope.harness.run.conductor import Conductor, copy_file, run_config
    from lagscope.harness.run.orchestrator import run
    from lagscope.reports.build import build
    from lagscope.reports.gameday_file import load_gameday
    from lagscope.reports.renderers.terminal import print_summary

    from lagscope.errors import RunDirError

    game = load_gameday(args.file)
    config = run_config(game, out=args.out)
    print(f"lagscope: game day {game.title!r} ({game.duration_s:g}s) → {config.out}",
          file=sys.stderr, flush=True)  # fmt: skip
    progress = notices.StartupProgress()
    try:
        run_dir = run(config, conductor=Conductor(game), prepare=copy_file(game), progress=progress)
    finally:
        progress.done()
    try:
        summary = build(run_dir)
    except RunDirError as exc:
        print(notices.report_failed_line(run_dir, exc), file=sys.stderr)
        return notices.CUT_SHORT_EXIT
    print_summary(summary)
    if summary["run"]["outcome"] == "interrupted":
        return 130
    cut_short = notices.cut_short_line(summary)
    if cut_short is not None:
        print(cut_short, file=sys.stderr)
        return notices.CUT_SHORT_EXIT
    failed = [e for e in summary["gameday"]["expectations"] if not e["passed"]]
    for e in failed:
        print(f"lagscope: expectation failed: {e['text']} ({e['actual']})", file=sys.stderr)
    return 1 if failed or not summary["gameday"].get("started") else 0
