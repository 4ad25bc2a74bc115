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

import pinning
import psutil
import pyarrow.parquet as pq
import side_by_side
from lagscope.harness.run.processes import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP = "benchmarks.trivial_app:app"
LOCUSTFILE = HERE / "trivial_locust.py"


def serve(port: int, log: Path, *, new_session: bool = False) -> subprocess.Popen[bytes]:
    """The trivial target as lagscope serves it without the probe (see run/target.py)."""
    argv = [
        sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(
        argv, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=new_session,
    )  # fmt: skip
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the trivial target did not answer; see {log}")


def plain_round(out: Path, *, duration_s: int, users: int, pin: bool) -> dict[str, float]:
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
            pinning.run(argv, pin=pin, also=[server.pid], cwd=ROOT, env=env, stdout=log,
                        stderr=subprocess.STDOUT)  # fmt: skip
        times = psutil.Process(server.pid).cpu_times()
        target_cpu = (times.user + times.system) / duration_s * 100
    finally:
        server.terminate()
        server.wait()
    cpu = json.loads((out / "cpu.json").read_text())
    return {"rps": cpu["requests"] / cpu["wall_s"], "count": cpu["total"],
            "cpu_us": cpu["cpu_s"] / cpu["requests"] * 1e6, "target_cpu": target_cpu}  # fmt: skip


_AGGREGATED = re.compile(r"^\s+Aggregated\s+(\d+)\s", re.MULTILINE)


def lagscope_round(out: Path, *, duration_s: int, users: int, pin: bool) -> dict[str, float]:
    """``lagscope run --no-probe`` with the same locustfile and target."""
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", APP, "--scenario", str(LOCUSTFILE),
        "--users", str(users), "--spawn-rate", "100", "--duration", f"{duration_s}s",
        "--loop", "uvloop", "--no-probe", "--out", str(out),
    ]  # fmt: skip
    cpu_file = out.with_name(out.name + "-cpu.json")
    env = {**os.environ, "BENCH_CPU_FILE": str(cpu_file)}
    pinning.run(argv, pin=pin, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)  # fmt: skip
    rows = pq.read_metadata(out / "requests.parquet").num_rows
    locust_log = (out / "logs" / "locust.log").read_text()
    counted = int(_AGGREGATED.findall(locust_log)[0])
    if rows != counted:
        raise SystemExit(f"{out}: {rows} rows in requests.parquet, Locust counted {counted}")
    cpu = json.loads(cpu_file.read_text())
    summary = json.loads((out / "summary.json").read_text())
    return {"rps": cpu["requests"] / cpu["wall_s"], "count": rows,
            "cpu_us": cpu["cpu_s"] / cpu["requests"] * 1e6,
            "target_cpu": summary["resources"]["target"]["cpu_pct_mean"]}  # fmt: skip


def _trace_at(trace: Path, t: float) -> tuple[float, float]:
    """(requests sent, CPU seconds) at unix time ``t``, interpolated from a trace."""
    rows = [
        tuple(float(v) for v in line.split())
        for line in trace.read_text().splitlines()
        if len(line.split()) == 3
    ]
    for (ta, na, ca), (tb, nb, cb) in zip(rows, rows[1:], strict=False):
        if ta <= t <= tb:
            share = (t - ta) / (tb - ta) if tb > ta else 0.0
            return na + share * (nb - na), ca + share * (cb - ca)
    raise SystemExit(f"{trace} does not cover {t:.3f}")


def _traced(trace: Path) -> bool:
    return trace.exists() and trace.stat().st_size > 0


def together_round(
    out: Path, *, window_s: float, users: int, first: str
) -> dict[str, dict[str, float]]:
    """Both generators at once, each against its own trivial target: both targets on one
    core, both generators (and lagscope's control process) on the other.  Each Locust
    process runs in its own session, so the scheduler gives each an equal share of the
    generators' core; what a generator's recording costs shows in the requests it sends
    in that share, and directly in its CPU per request.  Read over one window inside
    both loads, from each Locust process's own trace (``trivial_locust.py``)."""
    out.mkdir(parents=True)
    duration = int(window_s + 2 + 8)  # lagscope's load: the window and room around it
    port = free_port()
    server = serve(port, out / "target.log", new_session=True)
    traces = {"locust": out / "locust.trace", "lagscope": out / "lagscope.trace"}
    argvs = {
        "locust": [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            # Loads until stopped below, however long lagscope's start-up takes (a CI run
            # saw plain Locust's run end before the window: it started ~8 s earlier).
            "--users", str(users), "--spawn-rate", "100", "--run-time", f"{duration + 120}s",
            "--host", f"http://127.0.0.1:{port}", "--only-summary", "--loglevel", "WARNING",
        ],
        "lagscope": [
            sys.executable, "-m", "lagscope", "run", "--app", APP,
            "--scenario", str(LOCUSTFILE), "--users", str(users), "--spawn-rate", "100",
            "--duration", f"{duration}s", "--loop", "uvloop", "--no-probe",
            "--out", str(out / "run"),
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for side in (first, "lagscope" if first == "locust" else "locust"):
            env = {**os.environ, "BENCH_TRACE_FILE": str(traces[side])}
            procs[side] = subprocess.Popen(
                argvs[side], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=(out / f"{side}.stderr").open("wb"), start_new_session=True,
            )  # fmt: skip
        with pinning.Pinner([server.pid, *(p.pid for p in procs.values())]):
            deadline = time.monotonic() + 60
            while not all(_traced(t) for t in traces.values()):
                if time.monotonic() > deadline or any(p.poll() for p in procs.values()):
                    raise SystemExit(f"a load did not start; see {out}/*.stderr")
                time.sleep(0.1)
            time.sleep(2.0)
            control = psutil.Process(procs["lagscope"].pid)
            t0, ctl0 = time.time(), sum(control.cpu_times()[:2])
            ticks0 = side_by_side.busy_ticks()
            time.sleep(window_s)
            t1, ctl1 = time.time(), sum(control.cpu_times()[:2])
            busy = side_by_side.core_busy(ticks0)
            if procs["locust"].poll() is not None:
                raise SystemExit(f"locust failed; see {out}/locust.stderr")
            if procs["lagscope"].wait(timeout=duration + 60):
                raise SystemExit(f"lagscope failed; see {out}/lagscope.stderr")
    finally:
        for proc in [*procs.values(), server]:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                proc.wait()
    result: dict[str, dict[str, float]] = {}
    for side, trace in traces.items():
        (n0, c0), (n1, c1) = _trace_at(trace, t0), _trace_at(trace, t1)
        result[side] = {"rps": (n1 - n0) / (t1 - t0), "cpu_us": (c1 - c0) / (n1 - n0) * 1e6}
    result["lagscope"]["control_pct"] = (ctl1 - ctl0) / (t1 - t0) * 100
    result["cores"] = {"target": busy[pinning.TARGET_CPU], "other": busy[pinning.OTHER_CPU]}
    rows = pq.read_metadata(out / "run" / "requests.parquet").num_rows
    counted = int(_AGGREGATED.findall((out / "run" / "logs" / "locust.log").read_text())[0])
    if rows != counted:
        raise SystemExit(f"{out}: {rows} rows in requests.parquet, Locust counted {counted}")
    return result


def together(args: argparse.Namespace) -> None:
    rounds = []
    with tempfile.TemporaryDirectory(prefix="gen-vs-locust-") as tmp:
        for rnd in range(args.rounds):
            first = "locust" if rnd % 2 == 0 else "lagscope"
            r = together_round(Path(tmp) / f"r{rnd}", window_s=args.duration,
                               users=args.users, first=first)  # fmt: skip
            rounds.append(r)
            ours, plain = r["lagscope"], r["locust"]
            print(
                f"round {rnd + 1} together: Locust {plain['rps']:7.1f} req/s "
                f"{plain['cpu_us']:5.1f} µs/req; lagscope {ours['rps']:7.1f} req/s "
                f"{ours['cpu_us']:5.1f} µs/req, control process {ours['control_pct']:.1f}% "
                f"of a core; throughput ratio {ours['rps'] / plain['rps']:.3f}  (cores busy: "
                f"targets' {r['cores']['target']:.0f}%, generators' {r['cores']['other']:.0f}%; "
                f"load average {os.getloadavg()[0]:.2f})",
                flush=True,
            )
    paired = [r["lagscope"]["rps"] / r["locust"]["rps"] for r in rounds]
    cpu = [r["locust"]["cpu_us"] / r["lagscope"]["cpu_us"] for r in rounds]
    print(
        "paired throughput ratios (lagscope / Locust), together: "
        + ", ".join(f"{p:.3f}" for p in paired)
        + f"; median {statistics.median(paired):.3f} (budget ≥ 0.95)"
    )
    print(
        "paired capacity ratios (Locust's CPU per request / lagscope's), together: "
        + ", ".join(f"{c:.3f}" for c in cpu)
        + f"; median {statistics.median(cpu):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument(
        "--one-at-a-time", action="store_true",
        help="run the two sides one after the other (each alone on its core)",
    )  # fmt: skip
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place processes")
    args = parser.parse_args()
    pin = not args.no_pin and pinning.Pinner.possible()
    print(pinning.describe() if pin else "unpinned")
    if pin:
        pinning.Pinner.pin_self()
    if not args.one_at_a_time:
        if not pin:
            raise SystemExit("running both sides together needs them pinned (CPUs 0 and 1)")
        together(args)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    sides = {"locust": plain_round, "lagscope": lagscope_round}
    results: dict[str, list[dict[str, float]]] = {"locust": [], "lagscope": []}
    with tempfile.TemporaryDirectory(prefix="gen-vs-locust-") as tmp:
        for rnd in range(args.rounds):
            order = ("locust", "lagscope") if rnd % 2 == 0 else ("lagscope", "locust")
            for side in order:
                r = sides[side](Path(tmp) / f"r{rnd}-{side}", duration_s=args.duration,
                                users=args.users, pin=pin)  # fmt: skip
                results[side].append(r)
                print(
                    f"round {rnd + 1} {side:8}: {r['rps']:8.1f} req/s  "
                    f"({int(r['count'])} requests), generator CPU {r['cpu_us']:5.1f} µs/request, "
                    f"target CPU {r['target_cpu']:5.1f}%  "
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
