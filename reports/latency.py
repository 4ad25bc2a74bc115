"""Exact latency percentiles from the raw request rows (numpy's linear interpolation)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PERCENTILES: dict[str, float] = {
    "p50_ms": 50.0,
    "p90_ms": 90.0,
    "p95_ms": 95.0,
    "p99_ms": 99.0,
    "p999_ms": 99.9,
}


def latency_figures(latencies: pd.Series, *, failures: int, seconds: float) -> dict[str, Any]:
    """count, failures, rps and the exact percentiles of one set of requests."""
    values = latencies.to_numpy(dtype=float)
    figures: dict[str, Any] = {
        "count": int(values.size),
        "failures": int(failures),
        "rps": round(values.size / seconds, 3) if seconds > 0 else 0.0,
    }
    if values.size:
        points = np.percentile(values, list(PERCENTILES.values()))
        figures.update({key: float(v) for key, v in zip(PERCENTILES, points, strict=True)})
        figures["max_ms"] = float(values.max())
    else:
        figures.update({key: None for key in PERCENTILES})
        figures["max_ms"] = None
    return figures


def endpoint_key(requests: pd.DataFrame) -> pd.Series:
    """``"GET /path"`` for each request row."""
    return requests["method"].astype(str) + " " + requests["name"].astype(str)


def latency_table(requests: pd.DataFrame, *, seconds: float) -> dict[str, Any]:
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
