"""The catalogue of seeded faults of ``shop``, and which ones are switched on.

Each fault lives in its own module with the broken and the fixed code side by side.
``SHOP_FAULTS`` (comma-separated names; the harness sets it from ``--fault``) switches
faults on at start; ``PUT /_lagscope/faults`` (see ``lagscope.target_apps.shop.admin``) switches
them while the service runs, in every worker (see ``lagscope.target_apps.shop.fault_switch``).
``enabled`` is this worker's copy of the state, which every request consults.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str  # one line: what the broken code does
    finding: str  # the diagnosis kind that recognises it
    # The run conditions the failure needs, as `lagscope run` flags and values: with the
    # fault on, each applies unless the flag is given (explicit flags win), and the run
    # says so.  The default mix and users do the rest.
    conditions: tuple[tuple[str, str], ...] = ()
    why: str = ""  # what the conditions stand for, in a few words


CATALOGUE: dict[str, Fault] = {
    f.name: f
    for f in [
        Fault(
            "blocking_io",
            "POST /orders charges the payment with a synchronous HTTP client inside async def",
            "event_loop_blocking",
        ),
        Fault(
            "cpu_bound",
            "POST /login hashes the password (PBKDF2) on the event loop thread",
            "event_loop_blocking",
        ),
        Fault(
            "connection_leak",
            "every DB endpoint gets its session from a dependency that never closes it",
            "connection_pool_exhaustion",
        ),
        Fault(
            "unbounded_tasks",
            "POST /orders fires one asyncio task per order to e-mail a receipt, with no bound",
            "unbounded_background_tasks",
            (("--relay-latency", "250ms"),),
            "the mail relay slows down: orders arrive faster than it delivers receipts",
        ),
        Fault(
            "threadpool_starvation",
            "GET /products/{id}/stock calls the warehouse with a blocking client in the threadpool",
            "threadpool_saturation",
            (("--downstream-stock-latency", "800ms"), ("--threadpool", "3")),
            "the warehouse slows down, in a small container (3 threads): the users fill them",
        ),
        Fault(
            "slow_downstream",
            "POST /orders calls the payments API without a timeout while it degrades",
            "slow_dependency",
            (("--downstream-latency", "3s"),),
            "the payments API degrades to 3 s an answer",
        ),
        Fault(
            "log_flood",
            "GET /products logs whole payloads at DEBUG through a synchronous file handler",
            "log_flood",
        ),
        Fault(
            "unhandled_errors",
            "POST /orders lets a rejected coupon escape as a bare 500 that leaks the traceback",
            "server_errors",
        ),
        Fault(
            "gc_pressure",
            "GET /products caches rendered pages as object graphs with back-references",
            "gc_pauses",
        ),
        Fault(
            "schema_drift",
            "POST /login renamed username to email; the scenario's old clients still send username",
            "client_errors",
        ),
    ]
}

enabled: set[str] = {
    name.strip() for name in os.environ.get("SHOP_FAULTS", "").split(",") if name.strip()
}


def condition_flags(fault: Fault) -> str:
    """The fault's conditions as flags: ``--downstream-latency 3s``."""
    return " ".join(f"{flag} {value}" for flag, value in fault.conditions)


def is_on(name: str) -> bool:
    return name in enabled


def known(names: Iterable[str]) -> set[str]:
    """``names`` as a set; raise KeyError naming the ones that are not in the catalogue."""
    wanted = set(names)
    unknown = wanted - CATALOGUE.keys()
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    return wanted


def set_enabled(names: Iterable[str]) -> set[str]:
    """Switch exactly ``names`` on in this worker (every other fault off); raise KeyError
    for an unknown one."""
    wanted = known(names)
    enabled.clear()
    enabled.update(wanted)
    return set(enabled)
