"""One wheel and one fresh venv per session, shared by every installed-wheel check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.installed.environment import Installed, build_lagscope_wheel, create


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    return create(root, build_lagscope_wheel(root / "wheel"))


@pytest.fixture
def neutral(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository with nothing in it: where a user types commands."""
    return tmp_path_factory.mktemp("neutral")
