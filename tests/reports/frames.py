"""Hand-made run data for the rule tests: a healthy baseline that each test spoils in one way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lagscope.reports.rundata import STALL_COLUMNS, RunData

T0 = 1_800_000_000.0
SECONDS = 10.0
GAUGE_EVERY_S = 0.25
ENDPOINTS = ["GET /products", "GET /products/{id}", "POST /orders"]


def gauges(**columns: Any) -> pd.DataFrame:
    """A healthy worker's gauges.csv over the window; ``columns`` replace values."""
    t = T0 + np.arange(0.0, SECONDS, GAUGE_EVERY_S)
    n = len(t)
    frame = pd.DataFrame(
        {
            "t": t,
            "tasks": 20 + (np.arange(n) % 5),
            "tasks_wait_top": "app/api.py:40 (list_items)",
            "tasks_wait_count": 3,
            "requests_wait_endpoint": "GET /products",
            "requests_wait_top": "app/api.py:40 (list_items)",
            "requests_wait_count": 2,
            "threads_busy": np.arange(n) % 3,
            "threads_total": 40,
            "threads_waiting": 0,
            "db_checked_out": np.arange(n) % 4,
            "db_capacity": 10,
            "db_waiting": 0,
            "db_dialects": "sqlite",
            "log_records": np.arange(n) // 4,  # one record a second
            "log_bytes": (np.arange(n) // 4) * 120,
            "log_top": "app/api.py:12",
            "rss_mb": 90.0,
            "pid": 4242,
        }
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def requests(*, n: int = 1500, latency_ms: float = 5.0) -> pd.DataFrame:
    """``n`` healthy requests spread evenly over ENDPOINTS."""
    rng = np.random.default_rng(0)
    keys = [ENDPOINTS[i % len(ENDPOINTS)] for i in range(n)]
    frame = pd.DataFrame(
        {
            "t": T0 + np.sort(rng.uniform(0.0, SECONDS, n)),
            "latency_ms": rng.gamma(4.0, latency_ms / 4.0, n),
            "method": [k.split(" ")[0] for k in keys],
            "name": [k.split(" ")[1] for k in keys],
            "status": 200,
            "ok": True,
            "bytes": 800,
            "error": None,
            "pid": 1,
        }
    )
    return frame


def collections(
    rows: list[tuple[float, int, float]] | None = None, *, site: str = ""
) -> pd.DataFrame:
    """gc.csv rows of worker 4242: (seconds into the window, generation, duration ms), each
    noted at ``site`` (none by default); by default a healthy worker's: a 1 ms young
    collection every 50 ms."""
    if rows is None:
        rows = [(at, 0, 1.0) for at in np.arange(0.0, SECONDS, 0.05)]
    return pd.DataFrame(
        {"pid": 4242, "t": [T0 + at for at, _, _ in rows],
         "generation": [gen for _, gen, _ in rows], "duration_ms": [ms for _, _, ms in rows],
         "cpu_ms": [ms for _, _, ms in rows], "collected": 10, "uncollectable": 0, "on_loop": 1,
         "site": site}
    )  # fmt: skip


def stalls(rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows or [], columns=STALL_COLUMNS)


def run_data(
    *,
    gauge_frame: pd.DataFrame | None = None,
    request_frame: pd.DataFrame | None = None,
    stall_frame: pd.DataFrame | None = None,
    gc_frame: pd.DataFrame | None = None,
    error_body_frame: pd.DataFrame | None = None,
    memory_cap_mb: float = 512.0,
) -> RunData:
    events = pd.DataFrame(
        [
            {"t": T0 - 1.0, "source": "load", "event": "load_start"},
            {"t": T0, "source": "load", "event": "spawning_complete"},
            {"t": T0 + SECONDS, "source": "load", "event": "load_stop"},
            {
                "t": T0 + SECONDS + 1,
                "source": "harness",
                "event": "run_end",
                "outcome": "completed",
            },
        ]
    )
    lag = pd.DataFrame({"pid": 4242, "t": T0 + np.arange(0.0, SECONDS, 0.01), "lag_ms": 0.3})
    return RunData(
        dir=Path("/nonexistent"),
        run={"config": {"app": "hand-made", "workers": 1, "memory_cap_mb": memory_cap_mb}},
        events=events,
        requests=requests() if request_frame is None else request_frame,
        lag=lag,
        stalls=stalls() if stall_frame is None else stall_frame,
        resources=pd.DataFrame(columns=["t", "role", "pid", "rss_mb", "cpu_pct", "threads", "fds"]),
        workers=[{"pid": 4242, "loop": "asyncio"}],
        gauges=gauges() if gauge_frame is None else gauge_frame,
        gc=collections() if gc_frame is None else gc_frame,
        **({} if error_body_frame is None else {"error_bodies": error_body_frame}),
    )
