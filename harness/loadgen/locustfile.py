"""The locustfile the harness hands to Locust: the chosen scenario plus lagscope's recorder.

``LAGSCOPE_SCENARIO_FILE`` names the scenario's locustfile; its User classes are
imported into this module's namespace, which is where Locust looks for them.
In rate mode (``LAGSCOPE_OPEN_MODEL`` set) Locust runs one dispatcher per process
instead, which drives the scenario's classes as a pool (lagscope.harness.loadgen.open_model).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from lagscope.harness.loadgen import loopback_guard, open_model
from lagscope.harness.loadgen import recorder as load_recorder
from locust import User, events

from lagscope import arrivals, rundir


def _load_scenario(path: Path) -> list[type[User]]:
    spec = importlib.util.spec_from_file_location("lagscope_scenario", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"lagscope: cannot load scenario {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lagscope_scenario"] = module
    spec.loader.exec_module(module)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, User)
        and value.__module__ == module.__name__
        and not value.abstract
    ]


_run_dir = Path(os.environ[rundir.ENV_RUN_DIR])
if os.environ.get(rundir.ENV_ALLOW_REMOTE) != "1":
    loopback_guard.install(_run_dir)
_classes = _load_scenario(Path(os.environ[rundir.ENV_SCENARIO_FILE]))
_open = arrivals.PlanOptions.from_env(os.environ)
if _open is None:
    globals().update({cls.__name__: cls for cls in _classes})
else:
    LagscopeArrivals = open_model.dispatcher_class(_classes, _open, run_dir=_run_dir)
    # Locust's event hooks are untyped (see pyproject's mypy overrides).
    events.init.add_listener(open_model.coordinate(_open))  # type: ignore[no-untyped-call]
load_recorder.install(_run_dir)
