"""What the probe's injector did, and the findings that follow from it (pure).

``injection_windows`` turns every worker's ``injected.jsonl`` into one entry per injected
fault: when it was on (first worker on, last worker off), what it did (calls matched and
affected, crashes, the memory cap).  ``label`` marks each finding that an injected fault
active in the same window explains (``FOLLOWS``): ``injected`` lists the faults, the
summary says so, and a finding about the injector's own work (``OWN``) is located at
``<injected KIND>`` instead of a worker or an endpoint.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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


def injection_windows(injections: pd.DataFrame, *, end: float | None) -> list[dict[str, Any]]:
    """One entry per fault spec: ``kind``, ``spec``, ``start``/``end`` (unix s; ``end`` is the
    run's when the fault was never switched off), ``workers``, ``matched``/``affected``
    (calls or statements, summed over workers), ``crashes`` and ``capped`` (worker pids)."""
    if injections.empty:
        return []
    windows: dict[str, dict[str, Any]] = {}
    for row in injections.itertuples(index=False):
        if not isinstance(row.spec, str):
            continue
        w = windows.setdefault(row.spec, {
            "kind": row.kind, "spec": row.spec, "start": None, "end": None, "workers": [],
            "matched": 0, "affected": 0, "crashes": [], "capped": [], "_on": set(),
        })  # fmt: skip
        detail = row.detail if isinstance(row.detail, dict) else {}
        if row.action == "on":
            w["start"] = row.t if w["start"] is None else min(w["start"], row.t)
            w["_on"].add(row.pid)
            if row.pid not in w["workers"]:
                w["workers"].append(int(row.pid))
        elif row.action == "off":
            w["_on"].discard(row.pid)
            w["end"] = row.t if w["end"] is None else max(w["end"], row.t)
            w["matched"] += int(detail.get("matched", 0))
            w["affected"] += int(detail.get("affected", 0))
        elif row.action == "crash":
            w["crashes"].append({"pid": int(row.pid), "t": row.t, "signal": detail.get("signal")})
        elif row.action == "capped":
            w["capped"].append(int(row.pid))
    found = []
    for w in windows.values():
        if w.pop("_on") or w["end"] is None:  # still on in some worker when the run ended
            w["end"] = end if end is not None else w["end"]
        if w["start"] is not None:
            found.append(w)
    return sorted(found, key=lambda w: w["start"])


def active(windows: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """The faults that were on at some time in ``[start, end]``."""
    return [
        w for w in windows
        if w["start"] <= end and (w["end"] is None or w["end"] >= start)
    ]  # fmt: skip


def label(findings: list[dict[str, Any]], on: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        marked = {**finding, "injected": specs}
        if not finding["summary"].startswith("Injected"):
            said = finding["summary"].rstrip(".")
            marked["summary"] = f"{said} (injected: {'; '.join(specs)})."
        own = OWN.get(kind)
        if own is not None and any(w["kind"] == own for w in causes):
            marked["location"] = f"<injected {own}>"
        labelled.append(marked)
    return labelled


def describe(window: dict[str, Any], *, t0: float) -> str:
    """One line: the fault, when it was on (seconds from ``t0``), what it did."""
    end = "the end" if window["end"] is None else f"{window['end'] - t0:.1f} s"
    did = []
    if window["matched"]:
        did.append(f"{window['affected']:,} of {window['matched']:,} matching calls affected")
    for crash in window["crashes"]:
        did.append(f"worker {crash['pid']} terminated ({crash['signal']})")
    if window["capped"]:
        did.append(f"memory cap reached in worker(s) {', '.join(map(str, window['capped']))}")
    return f"{window['spec']} from {window['start'] - t0:.1f} s to {end}" + (
        f": {'; '.join(did)}" if did else ""
    )
