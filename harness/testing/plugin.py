"""The pytest entry point: options, the marker, and the watcher registered when asked for.

Loaded in every pytest session of an environment where lagscope is installed, so it is
inert until enabled (``--lagscope``, ini ``lagscope = true``, or a test marked
``@pytest.mark.lagscope``): it then imports the probe and registers ``watcher.Watcher``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from lagscope.harness.testing.options import MARKER, MARKER_HELP, MODES, STALL_THRESHOLD

if TYPE_CHECKING:
    from lagscope.harness.testing.watcher import Watcher

PLUGIN_NAME = "lagscope-watcher"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lagscope", "lagscope: event-loop stalls in async tests")
    group.addoption(
        "--lagscope",
        action="store_true",
        default=False,
        help="watch the event loop of every async test; fail a test whose loop stalled",
    )
    group.addoption(
        "--lagscope-threshold",
        metavar="DURATION",
        default=None,
        help=f"loop lag that counts as a stall (a bare number is ms; default {STALL_THRESHOLD})",
    )
    group.addoption(
        "--lagscope-mode",
        choices=MODES,
        default=None,
        help="fail a test whose loop stalled (default), or warn",
    )
    group.addoption(
        "--lagscope-json",
        metavar="PATH",
        default=None,
        help="write the session's stalls to PATH as JSON (for CI)",
    )
    parser.addini("lagscope", "watch every async test (as --lagscope)", type="bool", default=False)
    parser.addini("lagscope_threshold", "as --lagscope-threshold", default=STALL_THRESHOLD)
    parser.addini("lagscope_mode", "as --lagscope-mode (fail or warn)", default="fail")
    parser.addini("lagscope_json", "as --lagscope-json", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: {MARKER_HELP}")
    if config.option.lagscope or config.getini("lagscope"):
        _register(config)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    watcher: Watcher | None = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if watcher is None and any(item.get_closest_marker(MARKER) for item in items):
        watcher = _register(config)
    if watcher is not None:
        watcher.prepare(items)


def _register(config: pytest.Config) -> Watcher:
    from lagscope.harness.testing.options import settings
    from lagscope.harness.testing.watcher import Watcher

    watcher = Watcher(config, settings(config))
    config.pluginmanager.register(watcher, PLUGIN_NAME)
    return watcher
