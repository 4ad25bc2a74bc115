"""What the probe costs: the app with the probe and bare (``--no-probe``), side by side.

Each round runs both at once (``side_by_side``): both targets share one core, everything
else the other, so both see the same moments of a shared machine.  At saturation (the
shop, the default) the scheduler splits the targets' core between them, so the probe's
cost shows as the probed side's lower throughput, and as its higher CPU per request.
Budget: throughput within 1 % and CPU per request within +1.5 % of the bare app (median
of the paired rounds).

``--wrk`` serves ``trivial_app.py`` bare and with the probe side by side, each saturated by
its own ``wrk`` (``wrk_pair``): no load generator of lagscope's in the way; compared by
throughput and CPU per request (budget 2 %).

``--trivial-rate R`` runs the trivial app at a fixed rate instead: ``trivial_app.py`` (one cheap
endpoint) under a fixed open-model load of R req/s on each side, so neither the
generator's limits nor the shop's own work hide the probe's cost; both sides send the same
rate, so it is compared by the target's CPU per request (budget 2 %), and P99.

    .venv/bin/python benchmarks/probe_overhead.py [--rounds 8] [--window 10]
    .venv/bin/python benchmarks/probe_overhead.py --wrk [--rounds 8] [--window 10]
    .venv/bin/python benchmarks/probe_overhead.py --trivial-rate 800 [--rounds 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import side_by_side
import wrk_pair

HERE = Path(__file__).resolve().parent
SHOP = ("shop", HERE / "saturate.py")
TRIVIAL = ("benchmarks.trivial_app:app", HERE / "trivial_locust.py")  # served from the repo root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured a round")
    parser.add_argument("--users", type=int, default=96, help="users per side (saturation)")
    parser.add_argument("--trivial-rate", type=float, default=None, metavar="RATE")
    parser.add_argument("--wrk", action="store_true", help="the trivial app under wrk")
    parser.add_argument("--connections", type=int, default=32, help="wrk's, per side")
    args = parser.parse_args()
    side_by_side.begin()
    if args.wrk:
        under_wrk(rounds=args.rounds, duration_s=int(args.window), connections=args.connections)
        return
    app, scenario = TRIVIAL if args.trivial_rate else SHOP
    load = (
        ["--rate", f"{args.trivial_rate:g}"]
        if args.trivial_rate
        else ["--users", str(args.users), "--spawn-rate", "100"]
    )
    base = [
        sys.executable, "-m", "lagscope", "run", "--app", app, "--scenario", str(scenario),
        *load,
    ]  # fmt: skip
    bare = side_by_side.Side("bare", [*base, "--no-probe"])
    probe = side_by_side.Side("probe", base)
    what = f"trivial app at {args.trivial_rate:g} req/s a side" if args.trivial_rate else "shop"
    rounds: list[dict[str, side_by_side.Figures]] = []
    pairs = side_by_side.alternating(
        (bare, probe), rounds=args.rounds, window_s=args.window, cwd=HERE.parent
    )
    for rnd, r in pairs:
        rounds.append(r)
        b, p = r["bare"], r["probe"]
        print(
            f"round {rnd + 1} {what}: bare {b.rps:7.1f} req/s {b.cpu_us:6.1f} µs/req "
            f"p99 {b.p99_ms:6.1f} ms; probe {p.rps:7.1f} req/s {p.cpu_us:6.1f} µs/req "
            f"p99 {p.p99_ms:6.1f} ms; throughput {p.rps / b.rps - 1:+.2%}, CPU per "
            f"request {p.cpu_us / b.cpu_us - 1:+.2%}; loop thread {b.loop_cpu_pct:.1f}% "
            f"and {p.loop_cpu_pct:.1f}% of a core, other threads "
            f"{b.target_cpu_pct - b.loop_cpu_pct:.1f}% and "
            f"{p.target_cpu_pct - p.loop_cpu_pct:.1f}%  (cores busy: targets' "
            f"{b.target_core_pct:.0f}%, of which targets "
            f"{b.target_cpu_pct + p.target_cpu_pct:.0f}%; other {b.other_core_pct:.0f}%; "
            f"load average {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    rps = [r["probe"].rps / r["bare"].rps - 1 for r in rounds]
    cpu = [r["probe"].cpu_us / r["bare"].cpu_us - 1 for r in rounds]
    p99 = [r["probe"].p99_ms - r["bare"].p99_ms for r in rounds]
    cpu_budget = "2%" if args.trivial_rate else "1.5%"
    rate_note = ", the rate on both sides" if args.trivial_rate else ", budget within 1%"
    print(f"paired rounds, {what} (probe vs bare): throughput "
          + side_by_side.series(rps, "+.2%", rate_note))  # fmt: skip
    print("CPU per request " + side_by_side.series(cpu, "+.2%", f", budget {cpu_budget}"))
    print(
        "P99 "
        + ", ".join(f"{d:+.1f}" for d in p99)
        + f" ms (median {statistics.median(p99):+.1f} ms"
        + (")" if args.trivial_rate else "; at saturation P99 is the queue's, not a budget)")
    )


def under_wrk(*, rounds: int, duration_s: int, connections: int) -> None:
    """The trivial app bare and with the probe, each saturated by its own wrk."""
    wrk_pair.wrk_binary()
    rps, cpu = [], []
    for rnd, out in side_by_side.round_folders(rounds, prefix="probe-wrk-"):
        order = ("bare", "probe") if rnd % 2 == 0 else ("probe", "bare")
        r = wrk_pair.pair(order, out, duration_s=duration_s, connections=connections,
                          root=HERE.parent)  # fmt: skip
        b, p = r["bare"], r["probe"]
        rps.append(p.rps / b.rps - 1)
        cpu.append(p.cpu_us / b.cpu_us - 1)
        print(
            f"round {rnd + 1} trivial app under wrk ({connections} connections a side): "
            f"bare {b.rps:7.1f} req/s {b.cpu_us:5.1f} µs/req ({b.server_cpu_pct:.1f}% of a "
            f"core); probe {p.rps:7.1f} req/s {p.cpu_us:5.1f} µs/req "
            f"({p.server_cpu_pct:.1f}%); throughput {rps[-1]:+.2%}, CPU per request "
            f"{cpu[-1]:+.2%}  (load average {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    print("paired rounds, trivial app under wrk (probe vs bare): throughput "
          + side_by_side.series(rps, "+.2%", ", budget within 2%"))  # fmt: skip
    print("CPU per request " + side_by_side.series(cpu, "+.2%", ", budget 2%"))


if __name__ == "__main__":
    main()
