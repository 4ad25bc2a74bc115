"""What the fault injector costs when it is on but injects nothing: the shop at saturation
with the probe alone and with the probe plus ``--injector``, side by side.

Each round runs both at once (``side_by_side``): both targets share one core, everything
else the other, so both sides see the same moments of a shared machine.  It prints each
round's throughput and the target's CPU per request on each side, then the paired ratios
and their medians.  Budget: within 1 % of the probe alone in throughput.  What the
injector does while idle: one string comparison per request (its admin path) and one read
of ``inject.json`` every 50 ms per worker; nothing is hooked while nothing is injected.
It first times those two costs in one process.

    .venv/bin/python benchmarks/inject_overhead.py [--rounds 8] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import side_by_side

HERE = Path(__file__).resolve().parent


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
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured a round")
    parser.add_argument("--users", type=int, default=96, help="users per side")
    args = parser.parse_args()
    in_process()
    side_by_side.begin()
    base = [
        sys.executable, "-m", "lagscope", "run", "--app", "shop",
        "--scenario", str(HERE / "saturate.py"), "--users", str(args.users),
        "--spawn-rate", "100",
    ]  # fmt: skip
    probe = side_by_side.Side("probe", base)
    inject = side_by_side.Side("injector", [*base, "--injector"])
    rounds: list[dict[str, side_by_side.Figures]] = []
    pairs = side_by_side.alternating(
        (probe, inject), rounds=args.rounds, window_s=args.window, cwd=HERE.parent
    )
    for rnd, r in pairs:
        rounds.append(r)
        print(
            f"round {rnd + 1}: probe alone {r['probe'].rps:7.1f} req/s "
            f"{r['probe'].cpu_us:6.1f} µs/req; probe + injector {r['injector'].rps:7.1f} "
            f"req/s {r['injector'].cpu_us:6.1f} µs/req; throughput "
            f"{r['injector'].rps / r['probe'].rps - 1:+.2%}, CPU per request "
            f"{r['injector'].cpu_us / r['probe'].cpu_us - 1:+.2%}  (cores busy: targets' "
            f"{r['probe'].target_core_pct:.0f}%, of which targets "
            f"{r['probe'].target_cpu_pct + r['injector'].target_cpu_pct:.0f}%; other "
            f"{r['probe'].other_core_pct:.0f}%; load average {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    rps = [r["injector"].rps / r["probe"].rps - 1 for r in rounds]
    cpu = [r["injector"].cpu_us / r["probe"].cpu_us - 1 for r in rounds]
    print(
        "paired rounds (injector vs probe alone): throughput "
        + side_by_side.series(rps, "+.2%", ", budget within 1%")
        + "; CPU per request "
        + side_by_side.series(cpu, "+.2%")
    )


if __name__ == "__main__":
    main()
