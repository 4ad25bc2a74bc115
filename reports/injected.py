"""What the probe's injector did, and the findings that follow from it (pure).

``injection_windows`` turns every worker's ``injected.jsonl`` into one entry per injected
fault: when it was on (first worker on, last worker off), what it did (calls matched and
affected, crashes, the memory cap).  ``label`` marks each finding that an injected fault
active in the same window explains (``FOLLOWS``): ``injected`` lists the faults, the
summary says so, and a finding about the injector's own work (``OWN``) is located at
``<injected KIND>`` instead of a worker or an endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from lagscope.reports.summary_types import Finding, Injected

# The finding kinds each fault kind can cause.
FOLLOWS: dict[str, frozenset[str]] = {
    "dependency_latency": frozenset({
        "slow_dependency", "threadpool_saturation", "connection_pool_exhaustion",
        "load_shedding", "server_errors", "event_loop_blocking",
    }),
    "dependency_errors": frozenset({"server_errors", "load_shedding"}),
    "db_latency": frozenset({
        "slow_dependency", "connection_pool_exhaustion", "threadpool_saturation",
        "event_loop_blocking",
    }),
    "loop_block": frozenset({"event_loop_blocking"}),
    "cpu_burn": frozenset({"event_loop_blocking"}),
    "memory_leak": frozenset({"memory_growth"}),
    "worker_crash": frozenset({"worker_restarted", "target_crashed"}),
}  # fmt: skip
# Findings about the injector's own work: located at the fault, not in the app.
OWN = {"memory_growth": "memory_leak", "worker_restarted": "worker_crash"}


def injection_windows(injections: pd.DataFrame, *, end: float | None) -> list[Injected]:
    """One entry per fault spec: ``kind``, ``spec``, ``start``/``end`` (unix s; ``end`` is the
    run's when the fault was never switched off), ``workers``, ``matched``/``affected``
    (calls or statements, summed over workers), ``crashes`` and ``capped`` (worker pids)."""
    windows: dict[str, Injected] = {}
    on_in: dict[str, set[int]] = {}  # the workers where each spec is on, as the rows go
    started: dict[str, float] = {}
    for row in injections.itertuples(index=False):
        if not isinstance(row.spec, str):
            continue
        pid, t = int(row.pid), float(row.t)
        w = windows.setdefault(row.spec, {
            "kind": str(row.kind), "spec": row.spec, "start": t, "end": None, "workers": [],
            "matched": 0, "affected": 0, "crashes": [], "capped": [],
        })  # fmt: skip
        on = on_in.setdefault(row.spec, set())
        detail = row.detail if isinstance(row.detail, dict) else {}
        if row.action == "on":
            started[row.spec] = min(started.get(row.spec, t), t)
            on.add(pid)
            if pid not in w["workers"]:
                w["workers"].append(pid)
        elif row.action == "off":
            on.discard(pid)
            w["end"] = t if w["end"] is None else max(w["end"], t)
            w["matched"] += int(detail.get("matched", 0))
            w["affected"] += int(detail.get("affected", 0))
        elif row.action == "crash":
            signal = detail.get("signal")
            w["crashes"].append({"pid": pid, "t": t, "signal": str(signal) if signal else None})
        elif row.action == "capped":
            w["capped"].append(pid)
    found = []
    for spec, w in windows.items():
        if spec not in started:
            continue  # never switched on in this run's records
        w["start"] = started[spec]
        if on_in[spec] or w["end"] is None:  # still on in some worker when the run ended
            w["end"] = end if end is not None else w["end"]
        found.append(w)
    return sorted(found, key=lambda w: w["start"])


def active(windows: Sequence[Injected], start: float, end: float) -> list[Injected]:
    """The faults that were on at some time in ``[start, end]``."""
    return [
        w for w in windows
        if w["start"] <= end and (w["end"] is None or w["end"] >= start)
    ]  # fmt: skip


def label(findings: list[Finding], on: Sequence[Injected]) -> list[Finding]:
    """``findings`` with those an active injected fault explains marked (see module doc)."""
    labelled = []
    for finding in findings:
        kind = finding["kind"]
        causes = [w for w in on if kind in FOLLOWS.get(w["kind"], frozenset())]
        location = str(finding.get("location") or "")
        if kind == "event_loop_blocking":
            # A stall is the injector's when it was sampled in the injector (its location
            # says so) or a call it held on the loop ("injected" on the finding).
            held = finding.get("injected") or []
            causes = [w for w in causes if location == f"<injected {w['kind']}>"
                      or w["kind"] in held]  # fmt: skip
        if not causes:
            labelled.append(finding)
            continue
        specs = [w["spec"] for w in causes]
        marked = finding.copy()
        marked["injected"] = specs
        if not finding["summary"].startswith("Injected"):
            said = finding["summary"].rstrip(".")
            marked["summary"] = f"{said} (injected: {'; '.join(specs)})."
        own = OWN.get(kind)
        if own is not None and any(w["kind"] == own for w in causes):
            marked["location"] = f"<injected {own}>"
        labelled.append(marked)
    return labelled


# The faults that act on the app's own calls, and what those calls are (a fault that met
# none did nothing: the app makes no such call, or the host or pattern is wrong).
CALLS = {
    "dependency_latency": "outbound HTTP call to its host or URL",
    "dependency_errors": "outbound HTTP call to its host or URL",
    "db_latency": "SQLAlchemy statement (an app on another database library gets none)",
}


def describe(window: Injected, *, t0: float) -> str:
    """One line: the fault, when it was on (seconds from ``t0``, the window's start; on
    before it: "the start"), what it did."""
    end = "the end" if window["end"] is None else f"{window['end'] - t0:.1f} s"
    start = window["start"] - t0
    began = "the start" if start < 0 else f"{start:.1f} s"
    did = []
    if window["matched"]:
        did.append(f"{window['affected']:,} of {window['matched']:,} matching calls affected")
    elif window["kind"] in CALLS:
        did.append(
            f"no call matched, so nothing was injected: the app made no {CALLS[window['kind']]}"
        )
    for crash in window["crashes"]:
        did.append(f"worker {crash['pid']} terminated ({crash['signal']})")
    if window["capped"]:
        did.append(f"memory cap reached in worker(s) {', '.join(map(str, window['capped']))}")
    return f"{window['spec']} from {began} to {end}" + (f": {'; '.join(did)}" if did else "")
