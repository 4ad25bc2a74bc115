"""Run directories written by hand, file by file, as ``lagscope run`` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lagscope.request_schema import SCHEMA

T0 = 1_700_000_000.0


def write_run(
    path: Path, *, rows: int, stalls: bool, gauges: bool, slow_share: float = 0.0
) -> Path:
    """A closed-model run of ``rows`` requests to GET /a (~10 ms) and, ``slow_share`` of
    them, to GET /slow (~500 ms)."""
    rng = np.random.default_rng(1)
    path.mkdir()
    (path / "run.json").write_text(json.dumps({
        "config": {"app": "hand", "scenario": "s"},
        "admin": {"path": "/_lagscope/faults", "token": "s3cret-admin-token"},
    }))  # fmt: skip
    events = [("load_start", 0.0), ("spawning_complete", 1.0), ("load_stop", 11.0)]
    (path / "events.jsonl").write_text(
        "".join(json.dumps({"t": T0 + dt, "source": "load", "event": e}) + "\n"
                for e, dt in events)
    )  # fmt: skip
    t = np.sort(T0 + rng.uniform(0, 12, rows))
    ok = np.ones(rows, dtype=bool)
    ok[200:203] = False  # inside the steady window
    slow = rng.uniform(0, 1, rows) < slow_share
    latency = np.where(slow, rng.normal(500.0, 20.0, rows), rng.exponential(10.0, rows))
    table = {"t": t, "latency_ms": latency, "method": ["GET"] * rows,
             "name": np.where(slow, "/slow", "/a").tolist(),
             "status": np.where(ok, 200, 0).astype(np.int32), "ok": ok,
             "bytes": np.full(rows, 10), "error": [None if o else "refused" for o in ok],
             "pid": np.full(rows, 1, dtype=np.int32)}  # fmt: skip
    # Rate-mode columns (intended_t, uncorrected_ms, send_lag_ms) are null in closed mode.
    pq.write_table(pa.table({f.name: pa.array(table.get(f.name, [None] * rows), type=f.type)
                             for f in SCHEMA}),
                   path / "requests.parquet")  # fmt: skip
    worker = path / "workers" / "77"
    worker.mkdir(parents=True)
    beats = np.arange(T0, T0 + 12, 0.01)
    worker.joinpath("lag.csv").write_text("t,lag_ms\n" + "".join(f"{b:.6f},0.2\n" for b in beats))
    stall = {"start": T0 + 5, "duration_ms": 300.0, "lag_ms": 295.0, "samples": 10,
             "cpu_share": 0.0, "cause": "wait", "location": "app.py:9", "function": "f",
             "in_user_code": True, "endpoint": "GET /a",
             "stacks": [{"count": 10, "location": "app.py:9", "function": "f",
                         "endpoint": "GET /a", "in_user_code": True,
                         "frames": [["app.py", 9, "f", True]]}]}  # fmt: skip
    worker.joinpath("stalls.jsonl").write_text(json.dumps(stall) + "\n" if stalls else "")
    if gauges:
        worker.joinpath("gauges.csv").write_text(
            "t,pool_waiters,tasks_pending\n"
            + "".join(f"{T0 + s},{s % 3},{10 + s}\n" for s in range(12))
        )
    (path / "resources.csv").write_text(
        "t,role,pid,ppid,name,rss_mb,cpu_pct,threads,fds,connections\n"
        + "".join(f"{T0 + s},load_generator,5,1,python,40,97,1,5,2\n" for s in range(12))
    )
    return path


def write_failed_start(path: Path) -> Path:
    """What ``lagscope run`` leaves when the target exits during start-up (an app that raises
    on import): run.json, two events, an empty requests.parquet and resources.csv, the log."""
    path.mkdir()
    (path / "run.json").write_text(json.dumps({
        "config": {"app": "broken:app", "scenario": "openapi", "workers": 1, "slos": []},
    }))  # fmt: skip
    events = [("run_start", {}), ("run_end", {"outcome": "failed"})]
    (path / "events.jsonl").write_text(
        "".join(json.dumps({"t": T0 + i * 0.35, "source": "harness", "event": e, **extra}) + "\n"
                for i, (e, extra) in enumerate(events))
    )  # fmt: skip
    pq.write_table(SCHEMA.empty_table(), path / "requests.parquet")
    (path / "resources.csv").write_text(
        "t,role,pid,ppid,name,rss_mb,cpu_pct,threads,fds,connections\n"
    )
    (path / "logs").mkdir()
    (path / "logs" / "target.log").write_text(
        "Traceback (most recent call last):\n"
        '  File "/tmp/app/broken.py", line 1, in <module>\n'
        "    raise RuntimeError('config missing: DB_URL')\n"
        "RuntimeError: config missing: DB_URL\n\n"
    )
    return path
