"""How many workers? Two sweeps on this machine, side by side in one invocation.

- CPU-bound: ``cpuapp`` (tests/harness/apps) hashes a password per request on the loop
  thread; a second worker can use the second core.
- I/O-bound: shop's orders against a payments API that serves 8 charges at a time
  (DOWNSTREAM_CONCURRENCY=8, 50 ms each): every worker shares that capacity.

Prints each sweep's table and recommendation.

    .venv/bin/python benchmarks/sweep_workers.py [--step-duration 5s] [--max-steps 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

APPS = Path(__file__).resolve().parents[1] / "tests" / "harness" / "apps"


def sweep(out: Path, args: list[str], *, env: dict[str, str]) -> dict[str, object]:
    subprocess.run(
        [sys.executable, "-m", "harness", "sweep", "--workers", "1,2", "--out", str(out), *args],
        cwd=APPS,
        env=env,
        check=True,
    )
    state: dict[str, object] = json.loads((out / "sweep.json").read_text())
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-duration", default="5s")
    parser.add_argument("--max-steps", default="7")
    args = parser.parse_args()
    common = ["--step-duration", args.step_duration, "--max-steps", args.max_steps]
    cases = {
        "CPU-bound (cpuapp)": (["--app", "cpuapp.app:app", "--start-rate", "100"], {}),
        "I/O-bound (shop orders, payments 8 at a time)": (
            ["--app", "shop", "--scenario", "orders", "--start-rate", "50"],
            {"DOWNSTREAM_CONCURRENCY": "8"},
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        summaries = {}
        for i, (name, (flags, extra_env)) in enumerate(cases.items()):
            state = sweep(Path(tmp) / f"s{i}", flags + common, env={**os.environ, **extra_env})
            summaries[name] = state
    for name, state in summaries.items():
        print(f"\n{name}")
        rows = state["results"]
        assert isinstance(rows, list)
        for row in rows:
            print(
                f"  {row['workers']} worker(s): max {row['max_rate_rps']} req/s, "
                f"p99 {row['p99_ms_at_max']:.1f} ms, CPU {row['cpu_pct_at_max']:.0f}%, "
                f"valid {row['valid']}"
            )
        rates = {row["workers"]: row["max_rate_rps"] for row in rows}
        if rates.get(1) and rates.get(2):
            print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}×")
        recommendation = state["recommendation"]
        assert isinstance(recommendation, dict)
        print(f"  recommendation: {recommendation['text']}")


if __name__ == "__main__":
    main()
