"""The diagnosis: every rule of ``reports/rules/`` run over the figures (``RULES`` is the
registry), findings most severe first.  ``reports.findings`` defines what rules read and
return."""

from __future__ import annotations

from collections.abc import Callable

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.client_errors import client_errors
from lagscope.reports.rules.crash import target_crashed
from lagscope.reports.rules.dependency import slow_dependency
from lagscope.reports.rules.errors import load_shedding, server_errors
from lagscope.reports.rules.gcpauses import gc_pauses
from lagscope.reports.rules.logs import log_flood
from lagscope.reports.rules.loop import event_loop_blocking
from lagscope.reports.rules.memory import memory_growth
from lagscope.reports.rules.no_requests import no_requests
from lagscope.reports.rules.pool import connection_pool_exhaustion
from lagscope.reports.rules.restart import worker_restarted
from lagscope.reports.rules.sessions import session_leak
from lagscope.reports.rules.tasks import unbounded_background_tasks
from lagscope.reports.rules.threadpool import threadpool_saturation

__all__ = ["RULES", "Figures", "Finding", "diagnose"]

RULES: list[Callable[[Figures], list[Finding]]] = [
    no_requests,
    target_crashed,
    worker_restarted,
    event_loop_blocking,
    gc_pauses,
    connection_pool_exhaustion,
    unbounded_background_tasks,
    session_leak,
    memory_growth,
    threadpool_saturation,
    slow_dependency,
    log_flood,
    server_errors,
    load_shedding,
    client_errors,
]
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def diagnose(fig: Figures) -> list[Finding]:
    """Every rule's findings, most severe first."""
    findings = [finding for rule in RULES for finding in rule(fig)]
    return sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f["severity"], 9))
