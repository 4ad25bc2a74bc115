"""Exact latency percentiles from the raw request rows (numpy's linear interpolation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lagscope.reports.summary_types import LatencyFigures, RequestsSection

PERCENTILES: dict[str, float] = {
    "p50_ms": 50.0,
    "p90_ms": 90.0,
    "p95_ms": 95.0,
    "p99_ms": 99.0,
    "p999_ms": 99.9,
}


def latency_figures(latencies: pd.Series, *, failures: int, seconds: float) -> LatencyFigures:
    """count, failures, rps and the exact percentiles of one set of requests."""
    values = latencies.to_numpy(dtype=float)
    points: list[float | None] = [None] * (len(PERCENTILES) + 1)
    if values.size:
        points = [float(v) for v in np.percentile(values, list(PERCENTILES.values()))]
        points.append(float(values.max()))
    p50, p90, p95, p99, p999, top = points
    return {
        "count": int(values.size),
        "failures": int(failures),
        "rps": round(values.size / seconds, 3) if seconds > 0 else 0.0,
        "p50_ms": p50,
        "p90_ms": p90,
        "p95_ms": p95,
        "p99_ms": p99,
        "p999_ms": p999,
        "max_ms": top,
    }


def endpoint_key(requests: pd.DataFrame) -> pd.Series:
    """``"GET /path"`` for each request row; a name that already starts with its method
    (a locustfile's ``name="GET /path"``, a common style) is kept as it is."""
    method, name = requests["method"].astype(str), requests["name"].astype(str)
    has_method = (name.str.split(" ", n=1).str[0] == method) & name.str.contains(" ", regex=False)
    return name.where(has_method, method + " " + name)


def latency_table(requests: pd.DataFrame, *, seconds: float) -> RequestsSection:
    """``{"aggregate": figures, "endpoints": {"GET /path": figures}}`` over ``requests``."""
    aggregate = latency_figures(
        requests["latency_ms"], failures=int((~requests["ok"]).sum()), seconds=seconds
    )
    endpoints = {
        str(key): latency_figures(
            group["latency_ms"], failures=int((~group["ok"]).sum()), seconds=seconds
        )
        for key, group in requests.groupby(endpoint_key(requests), sort=True)
    }
    return {"aggregate": aggregate, "endpoints": endpoints}
