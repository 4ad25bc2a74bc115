"""What the ``openapi`` scenario covered: operations found, exercised, skipped and why, and
each operation's answers by status class (``summary.json``'s ``scenario.coverage``).

Counted over the whole run, ramp-up included: the question is whether an operation was
reached at all and how it answered, not its steady-state latency.
"""

from __future__ import annotations

import pandas as pd
from lagscope.reports.latency import endpoint_key
from lagscope.reports.summary_types import CoverageSection, OperationCoverage, SkippedOperation

from lagscope.openapi_plan import Plan

CLASSES = ("2xx", "3xx", "4xx", "5xx")


def status_class(status: int) -> str:
    """``"2xx"`` … ``"5xx"``, or ``"no_response"`` for status 0 (and anything else)."""
    return f"{status // 100}xx" if 200 <= status < 600 else "no_response"


def coverage(plan: Plan | None, requests: pd.DataFrame) -> CoverageSection | None:
    """``scenario.coverage`` of a run of the openapi scenario; None without a plan."""
    if plan is None:
        return None
    keys = endpoint_key(requests) if not requests.empty else pd.Series(dtype=str)
    classes = requests["status"].astype(int).map(status_class) if not requests.empty else keys
    counts = pd.crosstab(keys, classes) if not requests.empty else pd.DataFrame()
    operations: dict[str, OperationCoverage] = {}
    for op in plan["operations"]:
        row = counts.loc[op["key"]] if op["key"] in counts.index else pd.Series(dtype=int)
        n = {name: int(row.get(name, 0)) for name in (*CLASSES, "no_response")}
        operations[op["key"]] = OperationCoverage({
            "requests": sum(n.values()), "2xx": n["2xx"], "3xx": n["3xx"], "4xx": n["4xx"],
            "5xx": n["5xx"], "no_response": n["no_response"], "weight": float(op["weight"]),
            "linked": [link["param"] for link in op["links"]],
        })  # fmt: skip
    exercised = [key for key, op in operations.items() if op["requests"]]
    return CoverageSection(
        found=plan["found"],
        planned=len(plan["operations"]),
        exercised=len(exercised),
        not_exercised=[key for key in operations if key not in exercised],
        skipped=[SkippedOperation(key=s["key"], reason=s["reason"]) for s in plan["skipped"]],
        methods=list(plan["methods"]),
        choice=plan.get("choice"),
        generation_ms=float(plan["generation_ms"]),
        operations=operations,
    )
