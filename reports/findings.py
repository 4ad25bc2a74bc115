"""What the diagnosis rules read and write: ``Figures`` in, ``Finding``s out.

A finding is ``{kind, severity, summary, evidence, location, remedy}`` plus details a rule
adds (``cause``, ``endpoint``, ...); summary.json's ``diagnosis`` is a list of them.
Rules are pure functions ``Figures -> list[Finding]`` so they can be tested on data made
by hand.  Kept apart from the registry (``reports.diagnosis``) so that rules and registry
import this module, not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Finding = dict[str, Any]


@dataclass(frozen=True)
class Figures:
    """What the rules read: the processed sections of the summary."""

    seconds: float
    run: dict[str, Any]
    requests: dict[str, Any]
    loop: dict[str, Any]
    resources: dict[str, Any]
    gauges: dict[str, Any] = field(default_factory=dict)  # reports.gauges.gauge_figures
    statuses: dict[str, Any] = field(default_factory=dict)  # reports.statuses.status_figures
    safety: dict[str, Any] = field(default_factory=dict)  # reports.gauges.memory_cap
    target_log: str | None = None  # the last line of logs/target.log
    # Server workers that ran: [{pid, started, last_beat}] (unix s) and the window's bounds
    # (reports.workers.worker_lives); a worker that died and one that replaced it show here.
    processes: dict[str, Any] = field(default_factory=dict)
