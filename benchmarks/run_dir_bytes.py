"""How many bytes a run writes: per request, per stall, per heartbeat, and the report.

Runs ``lagscope run`` (any flags after ``--``; by default the shop at 200 req/s for 20 s),
watches the run directory's size while it goes, and prints each file kind's bytes per
record.  ``--synthetic N`` instead writes N requests shaped like the shop's (six endpoints,
lognormal latencies, 1 % errors) as ``requests.parquet`` and as one-second spool parts, in
closed and rate mode: bytes per request at a scale a busy machine cannot reach live.  The
figures in the README's "The run directory" and the constants of
``lagscope.harness.run.diskspace`` come from this script.

    python benchmarks/run_dir_bytes.py [-- --rate 200 --duration 20s --fault blocking_io]
    python benchmarks/run_dir_bytes.py --synthetic 100000 --rps 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lagscope import rundir
from lagscope.request_schema import SCHEMA

DEFAULT_ARGS = ["--rate", "200", "--duration", "20s"]


def tree_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


class Peak(threading.Thread):
    """The largest size of the run directory and of its spool, polled every 0.2 s."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(daemon=True)
        self.run_dir = run_dir
        self.total = 0
        self.spool = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.total = max(self.total, tree_bytes(self.run_dir))
            self.spool = max(self.spool, tree_bytes(self.run_dir / rundir.SPOOL))


def per(size: int, count: int) -> str:
    return f"{size / count:,.1f}" if count else "–"


def report(run_dir: Path, peak: Peak) -> None:
    requests = pq.read_metadata(run_dir / rundir.REQUESTS).num_rows
    summary = json.loads((run_dir / rundir.SUMMARY).read_text(encoding="utf-8"))
    seconds = summary["run"]["duration_s"]
    workers = sorted((run_dir / rundir.WORKERS).iterdir())
    beats = stalls = gauge_rows = 0
    lag_bytes = stall_bytes = gauge_bytes = 0
    for worker in workers:
        beats += len(pd.read_csv(worker / rundir.LAG))
        lag_bytes += (worker / rundir.LAG).stat().st_size
        stalls += sum(1 for _ in (worker / rundir.STALLS).open(encoding="utf-8"))
        stall_bytes += (worker / rundir.STALLS).stat().st_size
        gauge_rows += len(pd.read_csv(worker / rundir.GAUGES))
        gauge_bytes += (worker / rundir.GAUGES).stat().st_size
    resources = run_dir / rundir.RESOURCES
    rows = len(pd.read_csv(resources))
    merged = (run_dir / rundir.REQUESTS).stat().st_size
    charts = tree_bytes(run_dir / rundir.CHARTS)
    html = (run_dir / rundir.REPORT_HTML).stat().st_size
    other = sum((run_dir / name).stat().st_size for name in (rundir.SUMMARY, rundir.REPORT_MD))
    print(f"{requests:,} requests in {seconds:g} s of load; {len(workers)} worker(s)")
    print(f"requests.parquet: {merged:,} B, {per(merged, requests)} B per request")
    print(f"spool at its largest: {peak.spool:,} B, {per(peak.spool, requests)} B per request")
    print(f"stalls.jsonl: {stalls:,} stalls, {per(stall_bytes, stalls)} B per stall")
    print(f"lag.csv: {beats:,} heartbeats, {per(lag_bytes, beats)} B per heartbeat")
    print(f"gauges.csv: {gauge_rows:,} rows, {per(gauge_bytes, gauge_rows)} B per row")
    print(f"resources.csv: {rows:,} rows, {per(resources.stat().st_size, rows)} B per row")
    print(f"report: report.html {html:,} B, charts {charts:,} B, summary + md {other:,} B")
    print(f"run directory: {tree_bytes(run_dir):,} B at the end, {peak.total:,} B at its largest")
    sizes = sorted((p.stat().st_size, p) for p in run_dir.rglob("*") if p.is_file())
    print("largest files: " + ", ".join(f"{p.relative_to(run_dir)} {n:,} B" for n, p in sizes[-4:]))


ENDPOINTS = [
    ("GET", "/products"), ("GET", "/products/{product_id}"), ("GET", "/health"),
    ("POST", "/orders"), ("POST", "/login"), ("GET", "/products/{product_id}/stock"),
]  # fmt: skip


def synthetic(n: int, *, rps: float, rate_mode: bool) -> pa.Table:
    """``n`` request rows as the shop's scenario makes them, ``rps`` a second."""
    rng = np.random.default_rng(0)
    t = 1.7e9 + np.sort(rng.uniform(0, n / rps, n))
    which = rng.integers(0, len(ENDPOINTS), n)
    latency = rng.lognormal(np.log(20), 1.0, n)
    failed = rng.random(n) < 0.01
    lag = rng.exponential(2.0, n) if rate_mode else None
    columns = {
        "t": t,
        "latency_ms": latency + (lag if lag is not None else 0.0),
        "method": [ENDPOINTS[i][0] for i in which],
        "name": [ENDPOINTS[i][1] for i in which],
        "status": np.where(failed, 500, 200).astype("int32"),
        "ok": ~failed,
        "bytes": rng.integers(20, 4000, n),
        "error": [("LocustBadStatusCode: code=500" if f else None) for f in failed],
        "pid": np.full(n, 4242, dtype="int32"),
        "intended_t": t - lag / 1000 if lag is not None else [None] * n,
        "uncorrected_ms": latency if rate_mode else [None] * n,
        "send_lag_ms": lag if lag is not None else [None] * n,
        "load_worker": [None] * n,  # a local run's: null
    }
    return pa.table(columns, schema=SCHEMA)


def synthetic_report(n: int, rps: float) -> None:
    with tempfile.TemporaryDirectory(prefix="lagscope-bytes-") as tmp:
        for rate_mode in (False, True):
            table = synthetic(n, rps=rps, rate_mode=rate_mode)
            merged = Path(tmp) / "requests.parquet"
            pq.write_table(table, merged)
            per_second = max(1, round(rps))
            spool = 0
            for i, start in enumerate(range(0, n, per_second)):
                part = Path(tmp) / f"part-{i}.parquet"
                pq.write_table(table.slice(start, per_second), part)
                spool += part.stat().st_size
                part.unlink()
            mode = "rate mode" if rate_mode else "closed mode"
            size = merged.stat().st_size
            print(
                f"{mode}, {n:,} requests at {rps:g}/s: requests.parquet {size / n:.1f} B per "
                f"request; spool {spool / n:.1f} B per request (one part a second)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_args", nargs="*", help="flags for lagscope run (after --)")
    parser.add_argument("--synthetic", type=int, help="write N synthetic requests instead")
    parser.add_argument("--rps", type=float, default=1000.0, help="their rate (--synthetic)")
    args = parser.parse_args()
    if args.synthetic:
        synthetic_report(args.synthetic, args.rps)
        return
    with tempfile.TemporaryDirectory(prefix="lagscope-bytes-") as tmp:
        run_dir = Path(tmp) / "run"
        argv = [sys.executable, "-m", "lagscope", "run", "--out", str(run_dir)]
        peak = Peak(run_dir)
        peak.start()
        started = time.monotonic()
        done = subprocess.run(
            [*argv, *(args.run_args or DEFAULT_ARGS)], capture_output=True, text=True, check=False
        )
        peak.done.set()
        peak.join()
        if done.returncode not in (0, 1):
            sys.exit(f"lagscope run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        report(run_dir, peak)
        print(f"wall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
