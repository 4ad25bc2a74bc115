"""Distributed load on one machine: 1, 2 and 3 ``lagscope loadgen`` processes against a
trivial target, and what the Locust master pays per 1,000 records a second.

For each count N: a plain uvicorn serving ``ticker.app:calm`` (``GET /ping``), N loadgens
and ``lagscope run --target … --load-workers N`` (closed model, ``--users-per-worker``
users each, no think time).  Prints the aggregate throughput, the master's mean CPU (%
of one core, from resources.csv over the steady window) and that CPU per 1,000
records/s; then the records' size on the wire (msgpack, as Locust's messages carry
them) and what 50,000 req/s over 20 workers would mean for the master.

Every process shares this machine's cores, so the throughput is the machine's, not the
loadgens'; the master's CPU per record is what carries over to a real deployment.

    .venv/bin/python benchmarks/loadgen_scale.py [--duration 10s] [--counts 1,2,3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgpack
import pandas as pd

APPS = Path(__file__).resolve().parents[1] / "tests" / "harness" / "apps"
TARGET_HOST, MASTER_HOST = "127.0.0.2", "127.0.0.4"


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def process(argv: list[str], log: Path, **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,  # type: ignore[call-overload]
                                start_new_session=True, **kwargs)  # fmt: skip
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_count(n: int, *, duration: str, users_per_worker: int, tmp: Path) -> dict[str, float]:
    port, master = free_port(TARGET_HOST), free_port(MASTER_HOST)
    url = f"http://{TARGET_HOST}:{port}"
    uvicorn = [sys.executable, "-m", "uvicorn", "ticker.app:calm", "--host", TARGET_HOST,
               "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with contextlib.ExitStack() as stack:
        stack.enter_context(process(uvicorn, tmp / f"target-{n}.log", cwd=APPS))
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url + "/ping", timeout=1)
                break
            time.sleep(0.1)
        for i in range(n):
            argv = [sys.executable, "-m", "lagscope", "loadgen",
                    "--master", f"{MASTER_HOST}:{master}", "--name", f"lg{i}"]  # fmt: skip
            stack.enter_context(process(argv, tmp / f"loadgen-{n}-{i}.log"))
        out = tmp / f"run-{n}"
        subprocess.run(
            [sys.executable, "-m", "lagscope", "run", "--target", url, "--out", str(out),
             "--scenario", str(APPS / "ticker_scenario.py"), "--duration", duration,
             "--users", str(n * users_per_worker), "--spawn-rate", "100",
             "--load-workers", str(n), "--master-bind", f"{MASTER_HOST}:{master}"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    window = summary["window"]
    rps = float(summary["requests"]["aggregate"]["rps"])
    resources = pd.read_csv(out / "resources.csv")
    master_rows = resources.loc[
        (resources["role"] == "load_generator")
        & resources["t"].between(window["start"], window["end"])
    ]
    cpu = float(master_rows["cpu_pct"].mean())
    return {"loadgens": n, "rps": rps, "master_cpu_pct": cpu,
            "cpu_pct_per_1k_rps": cpu / (rps / 1000) if rps else float("nan")}  # fmt: skip


def record_bytes() -> float:
    """Bytes per record in a one-second batch on the wire (msgpack, as Locust packs it)."""
    n = 1000
    rows = {
        "t": [1.7e9 + i / n for i in range(n)], "latency_ms": [3.21 + i % 7 for i in range(n)],
        "method": ["GET"] * n, "name": ["/products/{product_id}"] * n, "status": [200] * n,
        "ok": [True] * n, "bytes": [512] * n, "error": [None] * n, "pid": [4242] * n,
        "intended_t": [1.7e9 + i / n for i in range(n)], "uncorrected_ms": [3.1] * n,
        "send_lag_ms": [0.1] * n, "load_worker": [None] * n,
    }  # fmt: skip
    return len(msgpack.packb({"worker": "loadgen-7:1234", "rows": rows})) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--counts", default="1,2,3")
    parser.add_argument("--users-per-worker", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; target ticker.app:calm (1 uvicorn worker)")
    results = []
    with tempfile.TemporaryDirectory(prefix="loadgen-scale-") as tmp:
        for n in (int(c) for c in args.counts.split(",")):
            row = one_count(n, duration=args.duration, users_per_worker=args.users_per_worker,
                            tmp=Path(tmp))  # fmt: skip
            results.append(row)
            print(f"{n} loadgen(s): {row['rps']:,.0f} req/s in total; master CPU "
                  f"{row['master_cpu_pct']:.1f}% of a core = {row['cpu_pct_per_1k_rps']:.2f}% "
                  "per 1,000 records/s")  # fmt: skip
    per_record = record_bytes()
    per_1k = sum(r["cpu_pct_per_1k_rps"] for r in results) / len(results)
    print(f"records on the wire: {per_record:.0f} bytes each (msgpack, 1 s batches)")
    print(
        f"at 50,000 req/s over 20 workers: {per_record * 50_000 / 1e6:.1f} MB/s into the "
        f"master ({per_record * 2_500 / 1e3:.0f} kB/s from each worker); master CPU "
        f"≈ {per_1k * 50 / 100:.1f} cores at {per_1k:.2f}% per 1,000 records/s"
    )
    print("figures: " + json.dumps(results))


if __name__ == "__main__":
    main()
