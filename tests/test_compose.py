"""docker-compose.yml is a stub (no Docker engine here), but what it names must exist."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_compose_file_names_real_modules_and_files() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"downstream", "shop", "load"}
    importlib.import_module("lagscope.target_apps.downstream")
    importlib.import_module("lagscope.harness.probe.entry")
    importlib.import_module(services["shop"]["environment"]["LAGSCOPE_APP"].split(":")[0])
    assert "harness/loadgen/locustfile.py" in services["load"]["command"]
    assert (REPO / "harness/loadgen/locustfile.py").is_file()
    scenario = services["load"]["environment"]["LAGSCOPE_SCENARIO_FILE"].removeprefix("/app/")
    assert (REPO / scenario).is_file()
