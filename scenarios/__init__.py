"""Locust scenarios the harness runs; ``lagscope run --scenario NAME`` picks one by file name.

A scenario is an ordinary locustfile.  Built-in ones read ``LAGSCOPE_SEED`` so that
two runs with the same seed send the same sequence of requests.  ``gamedays/*.toml``
are the built-in game-day exercises (``lagscope gameday NAME``), shipped in the wheel
as package data.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
GAMEDAYS = HERE / "gamedays"


def builtin() -> dict[str, Path]:
    """Built-in scenario names and their files."""
    return {p.stem: p for p in sorted(HERE.glob("*.py")) if not p.stem.startswith("_")}


def gamedays() -> dict[str, Path]:
    """Built-in game-day exercise names and their files."""
    return {p.stem: p for p in sorted(GAMEDAYS.glob("*.toml"))}
