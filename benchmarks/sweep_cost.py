"""What a sweep's restarts cost: the same sweep with and without ``--restart-each-step``.

2 configurations (1 and 2 uvicorn workers of the ``sizing`` app in ``tests/harness/apps``,
its CPU-bound ``GET /hash``) × 4 steps (``--precision 0.01`` keeps the search from
stopping early; the 4th step confirms).  The two modes alternate in one invocation
(A B, then B A, ...), so that a busy machine weighs on both alike.  Prints each sweep's
wall time, its steps' verdicts (rate: pass/FAIL, ! for an invalid step) and how each
step got its target (S started, r reused, R restarted); then each mode's median wall time
and, over the rounds whose two sweeps gave the same verdicts, the median ratio.

    .venv/bin/python benchmarks/sweep_cost.py [--rounds 2] [--step-duration 5s]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

APPS = Path(__file__).resolve().parents[1] / "tests" / "harness" / "apps"
MODES = {"restart each step": ["--restart-each-step"], "reuse the target": []}


def sweep(out: Path, extra: list[str], *, step: str, start: str) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "lagscope", "sweep", "--app", "sizing.app:app",
         "--scenario", "sizing/cpu_scenario.py", "--workers", "1,2", "--max-steps", "4",
         "--precision", "0.01", "--start-rate", start, "--step-duration", step,
         "--out", str(out), *extra],
        cwd=APPS, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.monotonic() - began
    state: dict[str, Any] = json.loads((out / "sweep.json").read_text())
    return wall, state


def verdicts(state: dict[str, Any]) -> str:
    """``w1: 40 pass, 80 pass, 160 FAIL, 80 pass | w2: …``."""
    points = []
    for slug, entry in state["points"].items():
        steps = [
            f"{s['rate']:g} {'pass' if s['passed'] else 'FAIL'}{'' if s['valid'] else '!'}"
            for s in entry["steps"]
        ]
        points.append(f"{slug.rsplit('-', 1)[-1]}: {', '.join(steps)}")
    return " | ".join(points)


def targets(state: dict[str, Any]) -> str:
    """How each step got its target: S started, r reused, R restarted."""
    letters = {"started": "S", "reused": "r", "restarted": "R"}
    return "".join(
        letters.get(s.get("target", ""), "?") for e in state["points"].values() for s in e["steps"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--step-duration", default="5s")
    parser.add_argument("--start-rate", default="40")
    args = parser.parse_args()
    walls: dict[str, list[float]] = {mode: [] for mode in MODES}
    pairs: list[float] = []  # reuse / restart, in rounds whose two sweeps gave one verdict
    with tempfile.TemporaryDirectory(prefix="lagscope-sweep-cost-") as tmp:
        for n in range(args.rounds):
            order = list(MODES) if n % 2 == 0 else list(reversed(MODES))
            seen: dict[str, tuple[float, str]] = {}
            for mode in order:
                out = Path(tmp) / f"{n}-{'reuse' if not MODES[mode] else 'restart'}"
                wall, state = sweep(
                    out, MODES[mode], step=args.step_duration, start=args.start_rate
                )
                walls[mode].append(wall)
                steps = sum(len(e["steps"]) for e in state["points"].values())
                seen[mode] = (wall, verdicts(state))
                print(f"round {n + 1} {mode:18} {wall:6.1f} s  {steps} steps "
                      f"({wall / steps:4.1f} s a step)  {verdicts(state)}  [{targets(state)}]",
                      flush=True)  # fmt: skip
            (before, same_a), (after, same_b) = seen["restart each step"], seen["reuse the target"]
            if same_a == same_b:
                pairs.append(after / before)
    for mode, times in walls.items():
        print(f"{mode}: median {statistics.median(times):.1f} s over {len(times)} sweeps")
    if pairs:
        ratio = statistics.median(pairs)
        print(
            f"rounds with the same verdicts both ways: {len(pairs)} of {args.rounds}; "
            f"reuse / restart wall time, median {ratio:.2f} ({1 - ratio:.0%} less)"
        )
    else:
        print("no round gave the same verdicts both ways: run more --rounds")


if __name__ == "__main__":
    main()
