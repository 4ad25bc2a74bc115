"""Response statuses over the steady window: server errors per endpoint, deliberate 503s.

A 5xx other than 503 means an exception (or a crash) reached the client; 503 is what a
service answers on purpose when it sheds load, so it is counted apart.
"""

from __future__ import annotations

import pandas as pd
from lagscope.reports.latency import endpoint_key
from lagscope.reports.summary_types import (
    EndpointErrors,
    EndpointShed,
    StatusesSection,
    UnhandledKind,
)

SHEDDING = {503}
UNHANDLED_KEPT = 5


def unhandled_kinds(exceptions: pd.DataFrame) -> list[UnhandledKind]:
    """The kinds of exception that escaped the app (every worker's ``exceptions.json``),
    summed over workers, most first; at most UNHANDLED_KEPT."""
    if exceptions.empty:
        return []
    keys = ["type", "message", "site", "endpoint"]
    counts = (
        exceptions.astype({k: str for k in keys})
        .groupby(keys, sort=False)["count"].sum()
        .sort_values(ascending=False, kind="stable")
        .head(UNHANDLED_KEPT)
    )  # fmt: skip
    return [
        {"type": t, "message": m, "site": s, "endpoint": e, "count": int(n)}
        for (t, m, s, e), n in counts.items()
    ]


def status_figures(
    requests: pd.DataFrame, exceptions: pd.DataFrame | None = None
) -> StatusesSection:
    """Counts of server errors (5xx but 503), 503s and no-response requests, per endpoint;
    ``exceptions`` (RunData.exceptions): what escaped the app, by kind, over the whole run."""
    unhandled = unhandled_kinds(exceptions) if exceptions is not None else []
    if requests.empty:
        return {"requests": 0, "server_errors": 0, "shed_503": 0, "no_response": 0,
                "endpoints": {}, "shed_endpoints": {}, "unhandled": unhandled}  # fmt: skip
    status = requests["status"].astype(int)
    server = (status >= 500) & ~status.isin(SHEDDING)
    keys = endpoint_key(requests)
    endpoints: dict[str, EndpointErrors] = {}
    for key, rows in requests[server].groupby(keys[server], sort=True):
        errors = rows["error"].dropna().astype(str)
        endpoints[str(key)] = {
            "server_errors": int(len(rows)),
            "statuses": {str(k): int(v) for k, v in rows["status"].value_counts().items()},
            "mean_bytes": round(float(rows["bytes"].mean()), 1),
            "example_error": errors.iloc[0][:200] if not errors.empty else None,
        }
    shed = status.isin(SHEDDING)
    answered = keys.value_counts()
    shed_endpoints: dict[str, EndpointShed] = {
        str(key): {"shed_503": int(count), "requests": int(answered[key])}
        for key, count in keys[shed].value_counts().sort_index().items()
    }
    return {
        "requests": int(len(requests)),
        "server_errors": int(server.sum()),
        "shed_503": int(shed.sum()),
        "no_response": int((status == 0).sum()),
        "endpoints": endpoints,
        "shed_endpoints": shed_endpoints,
        "unhandled": unhandled,
    }
