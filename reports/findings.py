"""What the diagnosis rules read and write: ``Figures`` in, ``Finding``s out.

A finding is ``{kind, severity, summary, evidence, location, remedy}`` plus details a rule
adds (``cause``, ``endpoint``, ...); summary.json's ``diagnosis`` is a list of them (the
``Finding`` TypedDict of ``reports.summary_types``, re-exported here for the rules).
Rules are pure functions ``Figures -> list[Finding]`` so they can be tested on data made
by hand.  Kept apart from the registry (``reports.diagnosis``) so that rules and registry
import this module, not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lagscope.reports.summary_types import (
    AppSection,
    ClientErrorsSection,
    Finding,
    GcSection,
    LoopSection,
    RequestsSection,
    RoleResources,
    RunSection,
    SafetySection,
    StatusesSection,
)
from lagscope.reports.workers import WorkerLives, no_lives

__all__ = ["Figures", "Finding"]


def _no_statuses() -> StatusesSection:
    return {"requests": 0, "server_errors": 0, "shed_503": 0, "no_response": 0,
            "endpoints": {}, "shed_endpoints": {}, "unhandled": []}  # fmt: skip


def _no_client_errors() -> ClientErrorsSection:
    return {"requests": 0, "client_errors": 0, "left_out": {}, "endpoints": {}}


def _no_safety() -> SafetySection:
    return {"memory_cap_mb": None, "cap_hit": False, "workers_at_cap": [], "rss_mb_max": None}


@dataclass(frozen=True)
class Figures:
    """What the rules read: the processed sections of the summary."""

    seconds: float
    run: RunSection
    requests: RequestsSection
    loop: LoopSection
    resources: dict[str, RoleResources]
    # Defaults for figures made by hand: sections that, read as rules read them, hold nothing.
    gauges: AppSection = field(default_factory=lambda: AppSection(workers={}))
    statuses: StatusesSection = field(default_factory=_no_statuses)
    safety: SafetySection = field(default_factory=_no_safety)
    gc: GcSection = field(default_factory=lambda: GcSection(recorded=False, threshold_ms=0.0))
    client_errors: ClientErrorsSection = field(default_factory=_no_client_errors)
    target_log: str | None = None  # the last line of logs/target.log
    # Server workers that ran: [{pid, started, last_beat}] (unix s) and the window's bounds
    # (reports.workers.worker_lives); a worker that died and one that replaced it show here.
    processes: WorkerLives = field(default_factory=no_lives)
