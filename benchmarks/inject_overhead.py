"""What the fault injector costs when it is on but injects nothing: the shop at saturation
with the probe alone and with the probe plus ``--injector``, alternating.

Each round runs both back to back (the order alternates), and prints throughput, P99 and
the target's CPU per request; then the medians and each round's paired ratio (less
exposed to the drift of a shared machine than the medians).  Budget: within 1 % of the
probe alone in throughput.  What the injector does while idle: one string comparison
per request (its admin path) and one read of ``inject.json`` every 50 ms per worker;
nothing is hooked while nothing is injected.

    .venv/bin/python benchmarks/inject_overhead.py [--rounds 5] [--duration 10s]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def one_run(out: Path, *, injector: bool, duration: str, users: int) -> dict[str, float]:
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", "shop",
        "--scenario", str(HERE / "saturate.py"), "--users", str(users), "--spawn-rate", "100",
        "--duration", duration, "--out", str(out),
    ]  # fmt: skip
    if injector:
        argv.append("--injector")
    subprocess.run(argv, check=True, capture_output=True)
    summary = json.loads((out / "summary.json").read_text())
    agg = summary["requests"]["aggregate"]
    target_cpu = summary["resources"]["target"]["cpu_pct_mean"]
    return {
        "rps": agg["rps"],
        "p99_ms": agg["p99_ms"],
        "target_cpu": target_cpu,
        "cpu_us_per_req": target_cpu / 100 * 1e6 / agg["rps"],
    }


def in_process(n: int = 200_000) -> None:
    """The idle injector's own costs, timed in one process (immune to a busy machine's noise):
    the wrapper's dispatch per request with and without it, and one look at inject.json."""
    from lagscope.harness.probe.asgi import InstrumentedApp
    from lagscope.harness.probe.inject.injector import Injector
    from lagscope.harness.probe.inject.state import Follower

    from lagscope import rundir
    from lagscope.injection import encode_state

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def call(wrapped: InstrumentedApp) -> float:
        scope = {"type": "http", "path": "/products/7", "method": "GET"}
        wrapped._started = True  # the probe is not started: only the dispatch is timed
        start = time.perf_counter()
        for _ in range(n):
            await wrapped(scope, None, None)  # type: ignore[arg-type]
        return (time.perf_counter() - start) / n * 1e9

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / rundir.INJECT
        state.write_bytes(encode_state([], switch_id="start"))
        injector = Injector(token="t", state_file=state, run_dir=Path(tmp))
        bare = min(asyncio.run(call(InstrumentedApp(app, None))) for _ in range(3))
        with_injector = min(
            asyncio.run(call(InstrumentedApp(app, None, injector=injector))) for _ in range(3)
        )
        follower = Follower(state)
        follower.changed()
        start = time.perf_counter()
        for _ in range(10_000):
            follower.changed()
        look_us = (time.perf_counter() - start) / 10_000 * 1e6
    print(f"in process: dispatch {bare:.0f} ns per request without the injector, "
          f"{with_injector:.0f} ns with it idle ({with_injector - bare:+.0f} ns); one look at "
          f"inject.json {look_us:.1f} µs, 20 a second = {look_us * 20 / 1e3:.3f} ms of CPU "
          "per second per worker")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    in_process()
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for injector in (False, True) if rnd % 2 == 0 else (True, False):
                out = Path(tmp) / f"r{rnd}-{'inject' if injector else 'probe'}"
                r = one_run(out, injector=injector, duration=args.duration, users=args.users)
                results[injector].append(r)
                print(
                    f"round {rnd + 1} {'probe + injector' if injector else 'probe alone     '}: "
                    f"{r['rps']:8.1f} req/s  p99 {r['p99_ms']:6.2f} ms  target CPU "
                    f"{r['target_cpu']:5.1f}% ({r['cpu_us_per_req']:6.1f} µs/req)",
                    flush=True,
                )
    keys = ("rps", "p99_ms", "cpu_us_per_req")
    on = {k: statistics.median(r[k] for r in results[True]) for k in keys}
    off = {k: statistics.median(r[k] for r in results[False]) for k in keys}
    paired = [
        (a["rps"] / b["rps"] - 1, a["cpu_us_per_req"] / b["cpu_us_per_req"] - 1)
        for a, b in zip(results[True], results[False], strict=True)
    ]
    print(f"median probe alone:      {off['rps']:.1f} req/s, p99 {off['p99_ms']:.2f} ms, "
          f"{off['cpu_us_per_req']:.1f} µs of target CPU per request")  # fmt: skip
    print(f"median probe + injector: {on['rps']:.1f} req/s, p99 {on['p99_ms']:.2f} ms, "
          f"{on['cpu_us_per_req']:.1f} µs of target CPU per request")  # fmt: skip
    print(
        "paired rounds (injector vs probe alone): throughput "
        + ", ".join(f"{t:+.1%}" for t, _ in paired)
        + f" (median {statistics.median(t for t, _ in paired):+.1%}); CPU per request "
        + ", ".join(f"{c:+.1%}" for _, c in paired)
        + f" (median {statistics.median(c for _, c in paired):+.1%})"
    )
    print(f"throughput with the injector idle: {on['rps'] / off['rps'] - 1:+.2%} of the probe "
          "alone (budget 1%)")  # fmt: skip


if __name__ == "__main__":
    main()
