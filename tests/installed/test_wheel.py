"""The wheel holds lagscope and only lagscope, with everything it ships; the venv runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.installed.environment import PYTHON_ENV, REPO, Installed, wheel_files

pytestmark = pytest.mark.e2e


def test_the_wheel_installs_one_top_level_name_lagscope(installed: Installed) -> None:
    files = wheel_files(installed.wheel)
    (top_level,) = [f for f in files if f.endswith(".dist-info/top_level.txt")]
    (record,) = [f for f in files if f.endswith(".dist-info/RECORD")]
    with zipfile.ZipFile(installed.wheel) as archive:
        assert archive.read(top_level).decode().split() == ["lagscope"]
        recorded = [line.split(",")[0] for line in archive.read(record).decode().splitlines()]
    assert {path.split("/")[0] for path in recorded if ".dist-info/" not in path} == {"lagscope"}


def test_the_wheel_ships_every_module_and_the_game_days(installed: Installed) -> None:
    files = set(wheel_files(installed.wheel))
    mapping = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, folder in mapping["package-dir"].items():
        for module in (REPO / folder).rglob("*.py"):
            inside = module.relative_to(REPO / folder).as_posix()
            assert f"{package.replace('.', '/')}/{inside}" in files, module
    toml = {f for f in files if f.startswith("lagscope/scenarios/gamedays/")}
    gamedays = (REPO / "scenarios" / "gamedays").glob("*.toml")
    shipped = {f"lagscope/scenarios/gamedays/{p.name}" for p in gamedays}
    assert toml == shipped
    assert len(shipped) >= 3


def test_the_venv_runs_the_wheels_lagscope_not_the_checkouts(
    installed: Installed, neutral: Path
) -> None:
    said = installed.python_says(
        "import importlib.metadata, sys, lagscope, lagscope.harness\n"
        "print(lagscope.__file__)\n"
        "print(lagscope.harness.__path__[0])\n"
        "print(any('editable' in repr(finder).lower() for finder in sys.meta_path))\n"
        "files = importlib.metadata.files('lagscope') or []\n"
        "inside = [f for f in files if f.parts[0] != '..']  # not the console script\n"
        "print(sorted({f.parts[0] for f in inside if not f.parts[0].endswith('.dist-info')}))\n",
        cwd=neutral,
    )
    lagscope_file, harness_dir, editable, top_names = said.splitlines()
    assert Path(lagscope_file).is_relative_to(installed.site_packages)
    assert Path(harness_dir) == installed.site_packages / "lagscope" / "harness"
    assert editable == "False"
    # What the installed distribution put in site-packages: one import name, no
    # harness, reports, scenarios or target_apps for a user's packages to collide with.
    assert top_names == "['lagscope']"


def test_game_days_are_listed_by_name_from_any_folder(installed: Installed, neutral: Path) -> None:
    listed = installed.run("lagscope", "gameday", "--list", cwd=neutral)
    assert listed.returncode == 0, listed.describe()
    names = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
    assert names == sorted(p.stem for p in (REPO / "scenarios" / "gamedays").glob("*.toml"))
    assert "blocking_deploy" in names
    apps = installed.run("lagscope", "apps", cwd=neutral)
    assert "blocking_deploy" in apps.stdout
    assert "--fault blocking_io" in apps.stdout


def test_the_venv_runs_the_python_asked_for(installed: Installed, neutral: Path) -> None:
    # make test-versions sets LAGSCOPE_TEST_PYTHON; the suite uses its own interpreter.
    wanted = os.environ.get(PYTHON_ENV) or sys.executable
    asked = subprocess.run(
        [wanted, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    said = installed.python_says("import platform; print(platform.python_version())", cwd=neutral)
    assert said == asked
