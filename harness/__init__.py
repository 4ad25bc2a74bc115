"""lagscope: load-testing and event-loop-blocking diagnostics for FastAPI/asyncio services.

Data flows one way: ``harness`` collects (load, probe, sampler) into a run
directory, and ``reports`` turns a run directory into summaries and reports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from harness.probe import instrument

__all__ = ["__version__", "instrument"]
