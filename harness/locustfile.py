"""The locustfile the harness hands to Locust: the chosen scenario plus lagscope's recorder.

``LAGSCOPE_SCENARIO_FILE`` names the scenario's locustfile; its User classes are
imported into this module's namespace, which is where Locust looks for them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from locust import User

from harness import load_recorder, loopback


def _load_scenario(path: Path) -> None:
    spec = importlib.util.spec_from_file_location("lagscope_scenario", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"lagscope: cannot load scenario {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lagscope_scenario"] = module
    spec.loader.exec_module(module)
    for name, value in vars(module).items():
        if (
            isinstance(value, type)
            and issubclass(value, User)
            and value.__module__ == module.__name__
        ):
            globals()[name] = value


def _guard_loopback() -> None:
    """Refuse, before sending, any request whose URL is not loopback (unless opted in)."""
    from locust.clients import HttpSession
    from locust.contrib.fasthttp import FastHttpSession

    for session in (HttpSession, FastHttpSession):
        build = session._build_url

        def guarded(self: object, path: str, _build: Any = build) -> str:
            return loopback.check(_build(self, path))

        session._build_url = guarded  # type: ignore[method-assign]


if os.environ.get("LAGSCOPE_ALLOW_REMOTE") != "1":
    _guard_loopback()
_load_scenario(Path(os.environ["LAGSCOPE_SCENARIO_FILE"]))
load_recorder.install(Path(os.environ["LAGSCOPE_RUN_DIR"]))
