"""Two runs at once, on the same cores: the way to measure a cost of ~1 % on a shared machine.

Run one after the other, two identical runs of the shop at saturation differ by ±15 % on
this machine: the host's other tenants, not lagscope, set the pace of a 10 s run.  Run
side by side, both see the same moments.  ``pair`` starts two ``lagscope run`` commands
together and pins them (``pinning``): both targets share one core, everything else (both
load generators, both control processes, the downstreams) the other.  Each target is kept
saturated by its own closed-model users, so the scheduler splits the target core between
them (each target runs in its own session, so Linux's autogroup gives each session an
equal share whatever its threads); what a side's extra work costs shows as its lower
throughput, and directly as its higher CPU per request.

Both figures are read over one window that lies inside both loads (from ``settle_s``
after the later of the two ``spawning_complete`` events, for ``window_s``; then both runs
are interrupted, as by Ctrl-C): the requests
each side sent in it (``requests.parquet``'s ``t``) and the CPU each side's target
processes spent in it (psutil, every thread).  A round is one pair; the start order
alternates round by round.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pinning
import psutil
import pyarrow.compute as pc
import pyarrow.parquet as pq

STARTUP_LIMIT_S = 60.0
INTERRUPTED = 130  # lagscope run's exit code after a Ctrl-C


@dataclass(frozen=True)
class Side:
    name: str
    argv: list[str]  # a ``lagscope run`` command line, without --duration and --out
    env: tuple[tuple[str, str], ...] = ()  # set in its environment


@dataclass(frozen=True)
class Figures:
    rps: float  # requests sent in the window, per second
    cpu_us: float  # the target's CPU per request in the window, µs
    target_cpu_pct: float  # the target's CPU in the window, % of a core
    loop_cpu_pct: float  # of which its main threads' (uvicorn workers: the event loops)
    control_cpu_pct: float  # lagscope's control process, % of a core
    requests: int
    p99_ms: float  # P99 latency of the window's requests (linear interpolation)
    target_core_pct: float  # how busy the targets' core was in the window (both sides)
    other_core_pct: float  # how busy the other core was


def _spawned(run_dir: Path) -> bool:
    try:
        lines = (run_dir / "events.jsonl").read_text().splitlines()
    except OSError:
        return False
    return any(json.loads(line).get("event") == "spawning_complete" for line in lines if line)


def busy_ticks() -> dict[int, tuple[int, int]]:
    """Per CPU: (ticks busy, ticks in all) since boot, from /proc/stat."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu":
            values = [int(v) for v in fields[:8]]
            idle = values[3] + values[4]  # idle + iowait
            ticks[int(name[3:])] = (sum(values) - idle, sum(values))
    return ticks


def core_busy(before: dict[int, tuple[int, int]]) -> dict[int, float]:
    """Per CPU, the share of the time since ``before`` it was busy (% of that CPU)."""
    after = busy_ticks()
    return {
        cpu: 100 * (after[cpu][0] - b[0]) / max(1, after[cpu][1] - b[1])
        for cpu, b in before.items()
    }


def _cpu_s(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _main_thread_cpu_s(pids: set[int]) -> float:
    """CPU seconds of each process's main thread (a uvicorn worker's event loop)."""
    total = 0.0
    for pid in pids:
        try:
            threads = psutil.Process(pid).threads()
        except psutil.Error:
            continue
        total += sum(t.user_time + t.system_time for t in threads if t.id == pid)
    return total


def pair(
    sides: tuple[Side, Side],
    out: Path,
    *,
    window_s: float,
    settle_s: float = 2.0,
    cwd: Path | None = None,
) -> dict[str, Figures]:
    """Run both sides at once; each side's figures over the common window."""
    # Long enough for one start-up to lag the other; both are interrupted (Ctrl-C, which
    # keeps everything collected) as soon as the window is over.
    duration = int(window_s + settle_s + STARTUP_LIMIT_S)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    dirs = {side.name: out / side.name for side in sides}
    try:
        for side in sides:
            argv = [*side.argv, "--duration", f"{duration}s", "--out", str(dirs[side.name])]
            procs[side.name] = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **dict(side.env)},
                stdout=subprocess.DEVNULL,
                stderr=(out / f"{side.name}.stderr").open("wb"),
                start_new_session=True,
            )
        with pinning.Pinner(p.pid for p in procs.values()) as pinner:
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while not all(_spawned(d) for d in dirs.values()):
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        raise SystemExit(f"{name} ended early; see {out / name}.stderr")
                if time.monotonic() > deadline:
                    raise SystemExit(f"the loads did not start within {STARTUP_LIMIT_S:g} s")
                time.sleep(0.1)
            time.sleep(settle_s)
            targets = {name: pinner.targets_under(proc.pid) for name, proc in procs.items()}
            controls = {name: {proc.pid} for name, proc in procs.items()}
            loop0 = {n: _main_thread_cpu_s(p) for n, p in targets.items()}
            t0, cpu0 = time.time(), {n: _cpu_s(p) for n, p in targets.items()}
            ctl0 = {n: _cpu_s(p) for n, p in controls.items()}
            ticks0 = busy_ticks()
            time.sleep(window_s)
            busy = core_busy(ticks0)
            t1, cpu1 = time.time(), {n: _cpu_s(p) for n, p in targets.items()}
            loop1 = {n: _main_thread_cpu_s(p) for n, p in targets.items()}
            ctl1 = {n: _cpu_s(p) for n, p in controls.items()}
            for proc in procs.values():
                proc.send_signal(signal.SIGINT)
            for name, proc in procs.items():
                if proc.wait(timeout=120) not in (0, INTERRUPTED):
                    raise SystemExit(f"{name} failed; see {out / name}.stderr")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                proc.wait()
    figures: dict[str, Figures] = {}
    for name, run_dir in dirs.items():
        table = pq.read_table(run_dir / "requests.parquet", columns=["t", "latency_ms"])
        t = table["t"]
        in_window = table.filter(pc.and_(pc.greater_equal(t, t0), pc.less(t, t1)))
        n = in_window.num_rows
        p99 = pc.quantile(in_window["latency_ms"], q=0.99, interpolation="linear")[0].as_py()
        cpu = cpu1[name] - cpu0[name]
        figures[name] = Figures(
            rps=n / (t1 - t0),
            cpu_us=cpu / n * 1e6 if n else float("nan"),
            target_cpu_pct=cpu / (t1 - t0) * 100,
            loop_cpu_pct=(loop1[name] - loop0[name]) / (t1 - t0) * 100,
            control_cpu_pct=(ctl1[name] - ctl0[name]) / (t1 - t0) * 100,
            requests=n,
            p99_ms=float("nan") if p99 is None else p99,
            target_core_pct=busy[pinning.TARGET_CPU],
            other_core_pct=busy[pinning.OTHER_CPU],
        )
    return figures


def begin() -> None:
    """Refuse a machine without CPUs 0 and 1; say how the runs are placed; move this
    process to the generators' CPU."""
    if not pinning.Pinner.possible():
        raise SystemExit("side by side needs two CPUs (0 and 1) for this process")
    print(pinning.describe(), flush=True)
    pinning.Pinner.pin_self()


def round_folders(rounds: int, prefix: str = "side-by-side-") -> Iterator[tuple[int, Path]]:
    """Each round's number (from 0) and its own empty folder, in a temporary folder removed
    afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        for rnd in range(rounds):
            out = Path(tmp) / f"r{rnd}"
            out.mkdir()
            yield rnd, out


def alternating(
    sides: tuple[Side, Side], *, rounds: int, window_s: float, cwd: Path | None = None
) -> Iterator[tuple[int, dict[str, Figures]]]:
    """``rounds`` pairs of ``sides`` (``pair``), the start order alternating round by round
    (``round_folders``); yields each round's number (from 0) and figures."""
    for rnd, out in round_folders(rounds):
        order = sides if rnd % 2 == 0 else sides[::-1]
        yield rnd, pair(order, out, window_s=window_s, cwd=cwd)


def series(values: list[float], fmt: str, note: str = "") -> str:
    """Each round's value and their median: ``+0.71%, -1.85% (median -0.57%<note>)``."""
    listed = ", ".join(format(v, fmt) for v in values)
    return f"{listed} (median {format(statistics.median(values), fmt)}{note})"


def main() -> None:
    """The method's own noise: the same run on both sides (an A/A test)."""
    import argparse

    parser = argparse.ArgumentParser(description="two identical runs side by side (A/A)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=96)
    args = parser.parse_args()
    begin()
    here = Path(__file__).resolve().parent
    base = [
        sys.executable, "-m", "lagscope", "run", "--app", "shop",
        "--scenario", str(here / "saturate.py"), "--users", str(args.users),
        "--spawn-rate", "100",
    ]  # fmt: skip
    a, b = Side("a", base), Side("b", base)
    rps, cpu = [], []
    for rnd, r in alternating((a, b), rounds=args.rounds, window_s=args.window, cwd=here.parent):
        rps.append(r["b"].rps / r["a"].rps - 1)
        cpu.append(r["b"].cpu_us / r["a"].cpu_us - 1)
        print(f"round {rnd + 1} ({'a' if rnd % 2 == 0 else 'b'} first): a {r['a'].rps:.1f} "
              f"req/s, b {r['b'].rps:.1f} req/s: b/a throughput {rps[-1]:+.2%}, CPU per "
              f"request {cpu[-1]:+.2%}", flush=True)  # fmt: skip
    print(f"A/A, b vs a: throughput {series(rps, '+.2%')}; CPU per request {series(cpu, '+.2%')}")
    first = [x if i % 2 == 0 else -x for i, x in enumerate(rps)]
    print(f"the side started second vs first: throughput median {statistics.median(first):+.2%}")


if __name__ == "__main__":
    main()
