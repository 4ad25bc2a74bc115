"""The probe that runs inside each server worker: loop-lag heartbeat and stall watchdog.

Public API: ``instrument(app)`` wraps any ASGI app; the harness serves
``lagscope.harness.probe.entry:create_app`` which does so for the user's app without touching
its code.
"""

from __future__ import annotations

from lagscope.harness.probe.asgi import InstrumentedApp, ProbeOptions, instrument

__all__ = ["InstrumentedApp", "ProbeOptions", "instrument"]
