"""From a run directory to findings: load (``rundata``), pure processing steps, renderers.

``build(run_dir)`` is the whole pipeline; ``lagscope report`` calls it on saved data.
"""

from __future__ import annotations

from reports.build import build

__all__ = ["build"]
