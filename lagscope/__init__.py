"""lagscope: load-testing and event-loop-blocking diagnostics for FastAPI/asyncio services.

The import root.  Its own modules are the ground floor every layer may use (errors,
units, the run-directory contract, defaults, arrivals, loopback); the subpackages are
``lagscope.harness`` (collection: probe, loadgen, run, cli), ``lagscope.reports``
(analysis and rendering), ``lagscope.scenarios`` and ``lagscope.target_apps``.
docs/architecture.md has the tree and the allowed import directions.

Public surface: ``instrument(app)`` (the probe) and ``__version__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "instrument"]

if TYPE_CHECKING:
    from lagscope.harness.probe import instrument


def __getattr__(name: str) -> Any:
    # Lazy, so that importing a ground-floor module (lagscope.errors) does not load the probe.
    if name == "instrument":
        from lagscope.harness.probe import instrument

        return instrument
    raise AttributeError(f"module 'lagscope' has no attribute {name!r}")
