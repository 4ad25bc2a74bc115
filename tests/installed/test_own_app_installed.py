"""A user's service installed into site-packages (non-editably), and the same service run
from its project folder: its blockers are named alike, ``yourpkg/…py:LINE``; a library call
is blamed on the line that made it; the service's own ``harness`` and ``reports`` packages
do not clash with lagscope's (tests/installed/project)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.installed.environment import Installed, build_wheel
from tests.installed.runs import lagscope_run, line_of

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
# The load both runs get: the app's GET endpoints evenly (openapi scenario).
FLAGS = ("--app", "yourpkg.main:app", "--code", "reports", "--users", "6", "--duration", "6s")


def expected_blockers() -> dict[str, str]:
    """Location -> endpoint of every seeded blocker, from the project's markers."""
    main, pricing = PROJECT / "yourpkg/main.py", PROJECT / "yourpkg/pricing.py"
    monthly = PROJECT / "reports/monthly.py"
    return {
        f"yourpkg/main.py:{line_of(main, '# BLOCKS: own line')}": "GET /sleepy",
        f"yourpkg/pricing.py:{line_of(pricing, '# BLOCKS: nested')}": "GET /price",
        # slowlib blocks inside itself; the service's line that called it is to blame.
        f"yourpkg/main.py:{line_of(main, '# BLOCKS: library call')}": "GET /rates",
        # --code reports: the service's own reports package is its code too.
        f"reports/monthly.py:{line_of(monthly, '# BLOCKS: code package')}": "GET /report",
    }


@pytest.fixture(scope="module")
def runs(
    installed: Installed, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(summary, worker meta) of the service installed, and imported from its folder."""
    root = tmp_path_factory.mktemp("own-app")
    wheels = root / "wheels"
    installed.pip_install(build_wheel(HERE / "slowlib", wheels), build_wheel(PROJECT, wheels))
    folder = root / "checkout"  # the user's project folder, as they work in it
    shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    neutral = root / "neutral"
    neutral.mkdir()
    found = {}
    for name, cwd in (("site-packages", neutral), ("project folder", folder)):
        out = root / name.replace(" ", "-")
        _, summary = lagscope_run(installed, out, *FLAGS, cwd=cwd)
        (meta,) = out.glob("workers/*/meta.json")
        found[name] = summary, json.loads(meta.read_text(encoding="utf-8"))
    return found


def blockers(summary: dict[str, Any]) -> dict[str, str | None]:
    return {b["location"]: b["endpoint"] for b in summary["loop"]["top_blockers"]}


@pytest.mark.parametrize("where", ["site-packages", "project folder"])
def test_every_blocker_is_named_in_the_services_code(
    runs: dict[str, tuple[dict[str, Any], dict[str, Any]]], where: str
) -> None:
    summary, meta = runs[where]
    blamed = blockers(summary)
    for location, endpoint in expected_blockers().items():
        assert blamed.get(location) == endpoint, (location, sorted(blamed))
    assert not [loc for loc in blamed if "slowlib" in loc or loc.startswith("<site-packages>/y")]
    # The diagnosis names the service's code as the service's, and never the library for
    # it (which blockers it reports depends on their share of the loop: a busy machine
    # shifts those shares).
    diagnosed = {f["location"] for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"}
    assert diagnosed & set(expected_blockers()), diagnosed
    misnamed = ("<site-packages>/yourpkg", "<site-packages>/reports", "<site-packages>/slowlib")
    assert not [loc for loc in diagnosed if loc.startswith(misnamed)], diagnosed
    # Where the service was imported from: the two runs really differ in that.
    prefixes = [Path(p["prefix"]) for p in meta["user_code"] if p["name"] == "yourpkg/"]
    assert prefixes
    assert all(("site-packages" in p.parts) == (where == "site-packages") for p in prefixes)


def test_installed_or_not_the_service_is_named_alike(
    runs: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    installed = {k: v for k, v in blockers(runs["site-packages"][0]).items()
                 if k in expected_blockers()}  # fmt: skip
    local = {k: v for k, v in blockers(runs["project folder"][0]).items()
             if k in expected_blockers()}  # fmt: skip
    assert installed == local == expected_blockers()
