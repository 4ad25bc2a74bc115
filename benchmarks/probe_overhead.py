"""What the probe costs: the shop at saturation with the probe on and off, alternating.

Prints each round's throughput, P99 and the target's CPU time per request, then the
medians and the ratios.  Budget: the probe costs at most 1% of throughput, 1.5% of
the target's CPU per request and 1 ms of P99.  When the load generator, not the target,
is the bottleneck (the target's CPU below ~95%), throughput hides the cost; CPU per
request still shows it.

``--trivial-rate R`` runs the trivial-app variant instead: ``trivial_app.py`` under a
fixed open-model load of R req/s (so the generator's own limits do not hide the probe's
cost), compared by the target's CPU per request (budget 2%).

    .venv/bin/python benchmarks/probe_overhead.py [--rounds 3] [--duration 10s]
    .venv/bin/python benchmarks/probe_overhead.py --trivial-rate 1000 [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


SHOP = ("shop", HERE / "saturate.py")
TRIVIAL = ("benchmarks.trivial_app:app", HERE / "trivial_locust.py")  # served from the repo root


def one_run(
    out: Path,
    *,
    probe: bool,
    duration: str,
    users: int,
    rate: float | None = None,
    app: tuple[str, Path] = SHOP,
) -> dict[str, float]:
    load = ["--rate", f"{rate:g}"] if rate else ["--users", str(users), "--spawn-rate", "100"]
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", app[0],
        "--scenario", str(app[1]), *load,
        "--duration", duration, "--out", str(out),
    ]  # fmt: skip
    if not probe:
        argv.append("--no-probe")
    subprocess.run(argv, check=True, capture_output=True, cwd=HERE.parent)
    summary = json.loads((out / "summary.json").read_text())
    agg = summary["requests"]["aggregate"]
    target_cpu = summary["resources"]["target"]["cpu_pct_mean"]
    return {
        "rps": agg["rps"],
        "cpu_ms_per_req": target_cpu / 100 * 1000 / agg["rps"],
        "p99_ms": agg["p99_ms"],
        "target_cpu": summary["resources"]["target"]["cpu_pct_mean"],
        "load_cpu": summary["resources"]["load_generator"]["cpu_pct_mean"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--trivial-rate", type=float, default=None, metavar="RATE")
    args = parser.parse_args()
    if args.trivial_rate:
        trivial_at_fixed_rate(args)
        return
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            order = (False, True) if rnd % 2 == 0 else (True, False)
            for probe in order:
                out = Path(tmp) / f"r{rnd}-{'on' if probe else 'off'}"
                r = one_run(out, probe=probe, duration=args.duration, users=args.users)
                results[probe].append(r)
                print(
                    f"round {rnd + 1} probe {'on ' if probe else 'off'}: {r['rps']:8.1f} req/s  "
                    f"p99 {r['p99_ms']:6.2f} ms  target CPU {r['target_cpu']:5.1f}% "
                    f"({r['cpu_ms_per_req'] * 1000:5.1f} µs/req)  "
                    f"load CPU {r['load_cpu']:5.1f}%",
                    flush=True,
                )
    keys = ("rps", "p99_ms", "cpu_ms_per_req")
    on = {k: statistics.median(r[k] for r in results[True]) for k in keys}
    off = {k: statistics.median(r[k] for r in results[False]) for k in keys}
    cost = 1 - on["rps"] / off["rps"]
    p99_delta = on["p99_ms"] - off["p99_ms"]
    print(f"median probe off: {off['rps']:.1f} req/s, p99 {off['p99_ms']:.2f} ms")
    print(f"median probe on:  {on['rps']:.1f} req/s, p99 {on['p99_ms']:.2f} ms")
    cpu_cost = on["cpu_ms_per_req"] / off["cpu_ms_per_req"] - 1
    # Each round runs on and off back to back: their ratio is less exposed to the drift of
    # a shared machine than the medians over rounds.
    paired = [
        (a["rps"] / b["rps"] - 1, a["cpu_ms_per_req"] / b["cpu_ms_per_req"] - 1)
        for a, b in zip(results[True], results[False], strict=True)
    ]
    latency_at_half_load(args, rate=off["rps"] / 2)
    print(
        "paired rounds (on vs off): throughput "
        + ", ".join(f"{t:+.1%}" for t, _ in paired)
        + f" (median {statistics.median(t for t, _ in paired):+.1%}); CPU per request "
        + ", ".join(f"{c:+.1%}" for _, c in paired)
        + f" (median {statistics.median(c for _, c in paired):+.1%})"
    )
    print(
        f"throughput cost: {cost:+.2%} (budget 1%)   p99 delta: {p99_delta:+.2f} ms (budget 1 ms)"
    )
    print(f"target CPU per request: {cpu_cost:+.2%} with the probe (budget 1.5%)")


def trivial_at_fixed_rate(args: argparse.Namespace) -> None:
    """The trivial app at a fixed rate, probe on and off alternating: the target's CPU per
    request (the throughput is the rate on both sides)."""
    cpu: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for probe in (False, True) if rnd % 2 == 0 else (True, False):
                out = Path(tmp) / f"t{rnd}-{'on' if probe else 'off'}"
                r = one_run(out, probe=probe, duration=args.duration, users=0,
                            rate=args.trivial_rate, app=TRIVIAL)  # fmt: skip
                cpu[probe].append(r["cpu_ms_per_req"])
                print(f"round {rnd + 1} trivial app at {args.trivial_rate:g} req/s, probe "
                      f"{'on ' if probe else 'off'}: {r['rps']:8.1f} req/s, target CPU "
                      f"{r['target_cpu']:5.1f}% ({r['cpu_ms_per_req'] * 1000:5.1f} µs/req), "
                      f"p99 {r['p99_ms']:6.2f} ms", flush=True)  # fmt: skip
    paired = [a / b - 1 for a, b in zip(cpu[True], cpu[False], strict=True)]
    print(
        "trivial app, target CPU per request (on vs off), paired: "
        + ", ".join(f"{c:+.1%}" for c in paired)
        + f" (median {statistics.median(paired):+.1%}, budget 2%)"
    )


def latency_at_half_load(args: argparse.Namespace, *, rate: float) -> None:
    """P99 with the probe on and off at half the saturation rate (open model): at
    saturation P99 is queueing and swings by more than the budget from round to round."""
    p99: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for probe in (False, True) if rnd % 2 == 0 else (True, False):
                out = Path(tmp) / f"h{rnd}-{'on' if probe else 'off'}"
                r = one_run(out, probe=probe, duration=args.duration, users=0, rate=rate)
                p99[probe].append(r["p99_ms"])
                print(f"half load {rate:.0f} req/s, probe {'on ' if probe else 'off'}: "
                      f"p99 {r['p99_ms']:6.2f} ms", flush=True)  # fmt: skip
    deltas = [a - b for a, b in zip(p99[True], p99[False], strict=True)]
    print(
        f"p99 at half load: off {statistics.median(p99[False]):.2f} ms, on "
        f"{statistics.median(p99[True]):.2f} ms; paired deltas "
        + ", ".join(f"{d:+.2f}" for d in deltas)
        + f" ms (median {statistics.median(deltas):+.2f} ms, budget 1 ms)"
    )


if __name__ == "__main__":
    main()
