"""How many bytes a run writes: per request, per stall, per heartbeat, and the report.

Runs ``lagscope run`` (any flags after ``--``; by default the shop at 200 req/s for 20 s),
watches the run directory's size while it goes, and prints each file kind's bytes per
record.  The figures in the README's "The run directory" and the constants of
``lagscope.harness.run.diskspace`` come from this script.

    python benchmarks/run_dir_bytes.py [-- --rate 200 --duration 20s --fault blocking_io]
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

import pandas as pd
import pyarrow.parquet as pq

from lagscope import rundir

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_args", nargs="*", help="flags for lagscope run (after --)")
    args = parser.parse_args()
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
