"""``lagscope gameday NAME|FILE``: flags and command (kept apart from the ``run`` CLI)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from lagscope.errors import UsageError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "gameday",
        help="run a scripted incident exercise: faults switched live, SLO burn-rate alerts",
        description="Run a game day: a built-in exercise by name ('lagscope gameday --list' "
        "lists them) or a TOML file like them; load as in 'lagscope run', "
        "faults switched at the timeline's times without a restart, SLO burn-rate alerts "
        "evaluated live; reports time to detect, time to mitigate and error budget consumed. "
        "Exit 0 when every expectation holds, 1 when one fails, 2 for a bad file, "
        "3 when the machine cut it short (a full disk, a dead load generator), "
        "130 when interrupted.",
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="NAME|FILE",
        help="a built-in exercise's name (e.g. blocking_deploy), or a game-day file",
    )
    p.add_argument("--list", action="store_true", help="list the built-in exercises and exit")
    p.add_argument(
        "--out", type=Path, help="run directory (default runs/<time>-<app>-gameday-<file>)"
    )
    p.add_argument(
        "--app",
        help="the app to exercise, 'module:attr' (or shop), instead of the file's [load] app",
    )


def resolve_gameday(text: str) -> Path:
    """The game-day file ``text`` names: a file, or a built-in exercise's name."""
    from lagscope.scenarios import gamedays

    path, builtin = Path(text), gamedays()
    if path.is_file() or (text not in builtin and path.suffix == ".toml"):
        return path  # load_gameday says what is wrong with a file
    if text in builtin:
        return builtin[text]
    raise UsageError(
        f"game day {text!r} is neither a game-day file nor a built-in exercise "
        f"({', '.join(builtin)}); 'lagscope gameday --list' describes them"
    )


def list_gamedays() -> list[str]:
    """One line per built-in exercise: name, length, title."""
    from lagscope.reports.gameday_file import load_gameday
    from lagscope.scenarios import gamedays

    lines = []
    for name, path in gamedays().items():
        game = load_gameday(path)
        lines.append(f"  {name:<22} {game.duration_s:>4g}s  {game.title}")
    return lines


def cmd_gameday(args: argparse.Namespace) -> int:
    from lagscope.harness.cli import notices
    from lagscope.harness.run.conductor import Conductor, copy_file, run_config
    from lagscope.reports.gameday_file import load_gameday

    from lagscope import runfiles
    from lagscope.errors import RunDirError

    if args.list:
        print("built-in game days (lagscope gameday NAME):")
        print("\n".join(list_gamedays()))
        return 0
    if args.file is None:
        raise UsageError("name a game day: lagscope gameday NAME|FILE ('--list' lists them)")
    game = load_gameday(resolve_gameday(args.file))
    config = run_config(game, out=args.out, app=args.app)
    # Imported once the file is good: a mistake in it is told without waiting for them.
    from lagscope.harness.run.orchestrator import run
    from lagscope.reports.build import build
    from lagscope.reports.renderers.terminal import print_summary

    if args.out is None:  # another run may have taken the default name this same second
        config = dataclasses.replace(config, out=runfiles.create_numbered(config.out))
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
