"""What lagscope's load generator costs: plain Locust vs ``lagscope run --no-probe``.

The same locustfile (``trivial_locust.py``: FastHttpUser, no wait) with the same users
against the same trivial target (``trivial_app.py``, 1 uvicorn worker, uvloop, httptools),
the two sides alternating round by round in one invocation.  Both throughputs are the
requests sent divided by the run time (plain Locust: its own count; lagscope: the rows of
``requests.parquet``, which must equal the count in Locust's summary in ``locust.log``:
every request recorded, none lost).  The target serves ~10,000 req/s on a core, so the
generator (one process, one core) is the bottleneck on both sides: the ratio is what
lagscope's recording costs.  Budget: lagscope at least 95% of plain Locust.

    .venv/bin/python benchmarks/generator_vs_locust.py [--rounds 5] [--duration 10s]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
from lagscope.harness.run.processes import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP = "benchmarks.trivial_app:app"
LOCUSTFILE = HERE / "trivial_locust.py"


def serve(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The trivial target as lagscope serves it without the probe (see run/target.py)."""
    argv = [
        sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(argv, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the trivial target did not answer; see {log}")


def plain_round(out: Path, *, duration_s: int, users: int) -> dict[str, float]:
    """Plain ``locust --headless`` against a fresh trivial target."""
    out.mkdir(parents=True)
    port = free_port()
    server = serve(port, out / "target.log")
    try:
        argv = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--users", str(users), "--spawn-rate", "100", "--run-time", f"{duration_s}s",
            "--host", f"http://127.0.0.1:{port}", "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        env = {**os.environ, "BENCH_CPU_FILE": str(out / "cpu.json")}
        with (out / "locust.log").open("wb") as log:
            subprocess.run(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True
            )
    finally:
        server.terminate()
        server.wait()
    cpu = json.loads((out / "cpu.json").read_text())
    return {"rps": cpu["total"] / duration_s, "count": cpu["total"],
            "cpu_us": cpu["cpu_s"] / cpu["requests"] * 1e6}  # fmt: skip


_AGGREGATED = re.compile(r"^\s+Aggregated\s+(\d+)\s", re.MULTILINE)


def lagscope_round(out: Path, *, duration_s: int, users: int) -> dict[str, float]:
    """``lagscope run --no-probe`` with the same locustfile and target."""
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", APP, "--scenario", str(LOCUSTFILE),
        "--users", str(users), "--spawn-rate", "100", "--duration", f"{duration_s}s",
        "--loop", "uvloop", "--no-probe", "--out", str(out),
    ]  # fmt: skip
    cpu_file = out.with_name(out.name + "-cpu.json")
    env = {**os.environ, "BENCH_CPU_FILE": str(cpu_file)}
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    rows = pq.read_metadata(out / "requests.parquet").num_rows
    locust_log = (out / "logs" / "locust.log").read_text()
    counted = int(_AGGREGATED.findall(locust_log)[0])
    if rows != counted:
        raise SystemExit(f"{out}: {rows} rows in requests.parquet, Locust counted {counted}")
    cpu = json.loads(cpu_file.read_text())
    return {"rps": rows / duration_s, "count": rows,
            "cpu_us": cpu["cpu_s"] / cpu["requests"] * 1e6}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    sides = {"locust": plain_round, "lagscope": lagscope_round}
    results: dict[str, list[dict[str, float]]] = {"locust": [], "lagscope": []}
    with tempfile.TemporaryDirectory(prefix="gen-vs-locust-") as tmp:
        for rnd in range(args.rounds):
            order = ("locust", "lagscope") if rnd % 2 == 0 else ("lagscope", "locust")
            for side in order:
                r = sides[side](Path(tmp) / f"r{rnd}-{side}", duration_s=args.duration,
                                users=args.users)  # fmt: skip
                results[side].append(r)
                print(
                    f"round {rnd + 1} {side:8}: {r['rps']:8.1f} req/s  "
                    f"({int(r['count'])} requests), generator CPU {r['cpu_us']:5.1f} µs/request  "
                    f"load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    plain = statistics.median(r["rps"] for r in results["locust"])
    ours = statistics.median(r["rps"] for r in results["lagscope"])
    paired = [
        a["rps"] / b["rps"] for a, b in zip(results["lagscope"], results["locust"], strict=True)
    ]
    print(f"median plain Locust: {plain:.1f} req/s; median lagscope: {ours:.1f} req/s "
          f"(ratio of medians {ours / plain:.3f})")  # fmt: skip
    print(
        "paired throughput ratios (lagscope / Locust): "
        + ", ".join(f"{p:.3f}" for p in paired)
        + f"; median {statistics.median(paired):.3f} (budget ≥ 0.95)"
    )
    cpu = [
        b["cpu_us"] / a["cpu_us"]
        for a, b in zip(results["lagscope"], results["locust"], strict=True)
    ]
    print(
        "paired capacity ratios (Locust's CPU per request / lagscope's): "
        + ", ".join(f"{c:.3f}" for c in cpu)
        + f"; median {statistics.median(cpu):.3f}"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
