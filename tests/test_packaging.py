"""pyproject.toml lists every package of the checkout (setuptools' find() cannot follow
package-dir), so nothing is left out of the wheel; tests/installed checks the wheel itself."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_package_list_is_every_folder_with_an_init() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for package, folder in setuptools["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            inside = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((package, *inside)))
    assert sorted(setuptools["packages"]) == sorted(found)
