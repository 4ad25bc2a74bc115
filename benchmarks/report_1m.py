"""How long ``lagscope report`` takes on a run of 1,000,000 requests, and its peak memory.

Synthesises a run directory (10 minutes at ~1,667 requests/s over four endpoints,
two workers' loop lag and stalls, resources every second), then runs
``lagscope report`` on it as a child process and prints its wall time and peak RSS.
Budget: ≤ 5 s and ≤ 1 GB on a 2-core machine.

    .venv/bin/python benchmarks/report_1m.py [--rows N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lagscope.request_schema import SCHEMA

T0 = 1_800_000_000.0
SECONDS = 600
WORKERS = (4101, 4102)
ENDPOINTS = [("GET", "/products"), ("GET", "/products/{product_id}"), ("POST", "/orders"),
             ("GET", "/health")]  # fmt: skip


def _requests(rows: int, rng: np.random.Generator) -> pa.Table:
    t = np.sort(T0 + rng.uniform(0.0, SECONDS, rows))
    which = rng.integers(0, len(ENDPOINTS), rows)
    latency = rng.lognormal(mean=2.0, sigma=0.8, size=rows)
    status = np.where(rng.random(rows) < 0.001, 500, 200).astype(np.int32)
    status[rng.random(rows) < 0.0001] = 0
    ok = status == 200
    columns = {
        "t": t,
        "latency_ms": latency,
        "method": np.array([m for m, _ in ENDPOINTS], dtype=object)[which],
        "name": np.array([n for _, n in ENDPOINTS], dtype=object)[which],
        "status": status,
        "ok": ok,
        "bytes": rng.integers(50, 5000, rows),
        "error": np.where(ok, None, "HTTPError('500 Server Error')"),
        "pid": np.full(rows, 4200, dtype=np.int32),
    }
    # A closed-model run: the rate-mode columns (intended_t, uncorrected_ms, send_lag_ms)
    # are null, as the recorder writes them.
    return pa.table({f.name: pa.array(columns[f.name], type=f.type) if f.name in columns
                     else pa.nulls(rows, type=f.type) for f in SCHEMA})  # fmt: skip


def _stall(rng: np.random.Generator, start: float) -> dict[str, object]:
    duration = float(rng.uniform(25, 120))
    frames = [["app/main.py", 40, "orders", True], ["app/payments.py", 29, "charge", True]]
    return {
        "start": start, "duration_ms": duration, "lag_ms": duration - 5, "samples": 30,
        "cpu_share": 0.05, "cause": "wait", "location": "app/payments.py:29",
        "function": "charge", "in_user_code": True, "endpoint": "POST /orders",
        "stacks": [{"count": 30, "location": "app/payments.py:29", "function": "charge",
                    "endpoint": "POST /orders", "in_user_code": True, "frames": frames}],
    }  # fmt: skip


def synthesise(run_dir: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    run_dir.mkdir(parents=True)
    config = {"app": "synthetic", "scenario": "bench", "faults": [], "workers": len(WORKERS),
              "loop": "auto", "probe": True, "slos": []}  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps({"config": config, "started": T0}))
    events = [("run_start", -2.0), ("load_start", 0.0), ("spawning_complete", 5.0),
              ("load_stop", float(SECONDS)), ("run_end", SECONDS + 1.0)]  # fmt: skip
    lines = [json.dumps({"t": T0 + dt, "source": "harness", "event": e}) for e, dt in events]
    lines[-1] = json.dumps({"t": T0 + SECONDS + 1.0, "source": "harness", "event": "run_end",
                            "outcome": "completed"})  # fmt: skip
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
    pq.write_table(_requests(rows, rng), run_dir / "requests.parquet")
    for pid in WORKERS:
        worker = run_dir / "workers" / str(pid)
        worker.mkdir(parents=True)
        (worker / "meta.json").write_text(json.dumps({"pid": pid, "loop": "uvloop.Loop"}))
        beats = np.arange(T0, T0 + SECONDS, 0.01)
        lag = rng.exponential(0.3, beats.size)
        np.savetxt(worker / "lag.csv", np.column_stack([beats, lag]), fmt=["%.6f", "%.3f"],
                   delimiter=",", header="t,lag_ms", comments="")  # fmt: skip
        starts = np.sort(rng.uniform(T0, T0 + SECONDS, 300))
        stalls = [json.dumps(_stall(rng, float(s))) for s in starts]
        (worker / "stalls.jsonl").write_text("\n".join(stalls) + "\n")
    res = ["t,role,pid,ppid,name,rss_mb,cpu_pct,threads,fds,connections"]
    for s in range(SECONDS + 2):
        for pid, role in ((4100, "target"), *((p, "target") for p in WORKERS),
                          (4200, "load_generator")):  # fmt: skip
            res.append(f"{T0 + s:.3f},{role},{pid},1,python,{80 + s * 0.01:.2f},"
                       f"{rng.uniform(20, 60):.1f},4,30,12")  # fmt: skip
    (run_dir / "resources.csv").write_text("\n".join(res) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="synthesise into this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        started = time.perf_counter()
        synthesise(run_dir, args.rows)
        print(f"synthesised {args.rows:,} requests in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "lagscope", "report", str(run_dir)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        print(f"lagscope report on {args.rows:,} requests: {wall:.2f} s wall, "
              f"peak RSS {peak_mb:.0f} MB (budget 5 s, 1024 MB)")  # fmt: skip
        return 0 if wall <= 5.0 and peak_mb <= 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
