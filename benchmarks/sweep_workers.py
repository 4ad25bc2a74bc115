"""How many workers? Two sweeps of the ``sizing`` app on this machine, in one invocation.

- CPU-bound: ``GET /hash`` hashes a password per request on the loop thread (~9 ms);
  a second worker can use the second core.
- I/O-bound: ``GET /pay`` awaits a payments upstream that serves 8 charges at a time,
  50 ms each (lagscope's downstream with DOWNSTREAM_CONCURRENCY=8): ~160 req/s shared by
  every worker.

Prints each sweep's table and recommendation.

    .venv/bin/python benchmarks/sweep_workers.py [--step-duration 5s] [--max-steps 9]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from lagscope.harness.run.processes import Child, free_port

APPS = Path(__file__).resolve().parents[1] / "tests" / "harness" / "apps"


def start_upstream(log: Path) -> tuple[Child, str]:
    port = free_port()
    env = {**os.environ, "DOWNSTREAM_CONCURRENCY": "8", "DOWNSTREAM_LATENCY_MS": "50"}
    argv = [sys.executable, "-m", "uvicorn", "lagscope.target_apps.downstream:app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    child = Child("upstream", argv, env=env, log_path=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/_config", timeout=1.0)
            return child, url
        except httpx.TransportError:
            time.sleep(0.1)
    child.stop()
    raise SystemExit("the upstream did not start")


def sweep(out: Path, args: list[str], *, env: dict[str, str]) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, "-m", "lagscope", "sweep", "--app", "sizing.app:app",
         "--workers", "1,2", "--out", str(out), *args],
        cwd=APPS, env=env, check=True,
    )  # fmt: skip
    state: dict[str, Any] = json.loads((out / "sweep.json").read_text())
    return state


def report(name: str, state: dict[str, Any]) -> None:
    print(f"\n{name}")
    for row in state["results"]:
        p99 = row["p99_ms_at_max"]
        print(
            f"  {row['workers']} worker(s): max {row['max_rate_rps']} req/s, "
            f"p99 {p99 if p99 is None else round(p99, 1)} ms, CPU {row['cpu_pct_at_max']}%, "
            f"valid {row['valid']} {row['invalid_reason'] or ''}"
        )
    rates = {row["workers"]: row["max_rate_rps"] for row in state["results"]}
    if rates.get(1) and rates.get(2):
        print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}×")
    print(f"  recommendation: {state['recommendation']['text']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-duration", default="5s")
    parser.add_argument("--max-steps", default="9")
    args = parser.parse_args()
    common = ["--step-duration", args.step_duration, "--max-steps", args.max_steps]
    with tempfile.TemporaryDirectory() as tmp:
        upstream, url = start_upstream(Path(tmp) / "upstream.log")
        try:
            env = {**os.environ, "SIZING_UPSTREAM_URL": url}
            cpu = sweep(Path(tmp) / "cpu", ["--scenario", "sizing/cpu_scenario.py",
                                            "--start-rate", "20", *common], env=env)  # fmt: skip
            io = sweep(Path(tmp) / "io", ["--scenario", "sizing/io_scenario.py",
                                          "--start-rate", "50", *common], env=env)  # fmt: skip
        finally:
            upstream.stop()
    report("CPU-bound (GET /hash)", cpu)
    report("I/O-bound (GET /pay, upstream serves 8 at a time x 50 ms)", io)


if __name__ == "__main__":
    main()
