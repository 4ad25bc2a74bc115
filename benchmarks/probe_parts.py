"""Where the probe's time goes inside a saturated worker: each part timed where it runs.

The end-to-end benchmarks (``probe_overhead.py``) say what the whole probe costs; an
ablation of one part at a time is below what they resolve (about ±1 % for a median of
8 rounds, docs/performance.md).  This script times the parts themselves, in place: the
trivial app is served through the probe by ``create_app`` below (the probe's factory,
with its parts wrapped in ``perf_counter_ns`` timers), saturated by ``wrk`` on the other
CPU, and each part's wall time per call and per second of the load is printed.  (The
trivial app opens no database session and logs nothing: the session and log hooks are
measured alone by ``session_hook.py`` and in the table of docs/performance.md.)

Wall time, not CPU time: a CPU clock is a system call (~3 µs here), more than some parts.
A part's figure therefore includes any interrupt, preemption or young collection that
lands inside it, and each wrapper adds its own two clock reads.  Nested parts (the beat's
``schedstat`` read and alarm re-arm, the gauge sample's walk) are inside their parent's
figure.

    .venv/bin/python benchmarks/probe_parts.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_OUT = "LAGSCOPE_BENCH_PARTS_OUT"  # where the worker writes its timings (JSON)
FACTORY = "benchmarks.probe_parts:create_app"  # served from the repository's root
DUMP_LIMIT_S = 10.0

# (label, module, owner attribute or "" for a module function, name)
PARTS = (
    ("beat", "heartbeat", "Heartbeat", "_on_time"),
    ("  beat: schedstat read", "heartbeat", "Heartbeat", "_waited_s"),
    ("  beat: alarm re-arm", "alarm", "Alarm", "rearm"),
    ("gauge sample", "gauges", "", "sample"),
    ("  gauge: walk of tasks", "gauges", "", "wait_sites"),
    ("  gauge: thread limiter", "gauges", "", "thread_limiter"),
    ("  gauge: held sessions", "gauges", "", "held_sites"),
    ("lag flush (watchdog thread)", "recorder", "Recorder", "flush_lag"),
    ("gc.csv flush", "gcpauses", "GcLog", "flush"),
)


def _timed(label: str, original: Callable[..., Any], totals: dict[str, list[int]]) -> Any:
    clock = time.perf_counter_ns
    entry = totals.setdefault(label, [0, 0])

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return original(*args, **kwargs)
        finally:
            entry[0] += clock() - started
            entry[1] += 1

    return timed


def _wrap_parts(totals: dict[str, list[int]]) -> None:
    import importlib

    for label, module_name, owner_name, name in PARTS:
        module = importlib.import_module(f"lagscope.harness.probe.{module_name}")
        owner = getattr(module, owner_name) if owner_name else module
        setattr(owner, name, _timed(label, getattr(owner, name), totals))
    from lagscope.harness.probe import gcpauses

    timing = gcpauses._timing

    def timed_timing(*args: Any, **kwargs: Any) -> Any:
        return _timed("gc callback", timing(*args, **kwargs), totals)

    gcpauses._timing = timed_timing


def create_app() -> Any:
    """The probe's factory (``entry.create_app``) with the probe's parts timed; on SIGUSR1
    the totals so far go to ``$LAGSCOPE_BENCH_PARTS_OUT/<pid>.json``."""
    from lagscope.harness.probe import entry

    totals: dict[str, list[int]] = {}
    _wrap_parts(totals)
    path = Path(os.environ[ENV_OUT]) / f"{os.getpid()}.json"

    def dump(signum: int, frame: object) -> None:
        path.write_text(json.dumps({"t": time.perf_counter(), "parts": totals}))

    signal.signal(signal.SIGUSR1, dump)  # uvicorn calls the factory on its main thread
    return entry.create_app()


def _totals(pid: int, out: Path) -> dict[str, Any]:
    """Ask the worker for its totals so far and read them."""
    path = out / f"{pid}.json"
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + DUMP_LIMIT_S
    while time.monotonic() < deadline:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):  # not yet written, or half written
            time.sleep(0.02)
    raise SystemExit(f"the server wrote no timings within {DUMP_LIMIT_S:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk's run")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    import pinning
    import wrk_pair

    if not pinning.Pinner.possible():
        raise SystemExit("probe_parts.py needs two CPUs (0 and 1)")
    pinning.Pinner.pin_self()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="probe-parts-") as tmp:
        out = Path(tmp)
        port = wrk_pair._free_port()
        env = {
            **os.environ,
            "LAGSCOPE_APP": wrk_pair.APP,
            "LAGSCOPE_PROBE": "1",
            "LAGSCOPE_RUN_DIR": str(out),
            ENV_OUT: str(out),
        }
        argv = [
            sys.executable, "-m", "uvicorn", FACTORY, "--factory", "--host", wrk_pair.LOOPBACK,
            "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        server = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=lambda: wrk_pair._on_cpu(pinning.TARGET_CPU),
        )
        url = f"http://{wrk_pair.LOOPBACK}:{port}/"
        try:
            wrk_pair._wait_ready(url, server)
            time.sleep(1.0)  # the probe's start-up work is over
            cpu0 = wrk_pair._cpu_s(server.pid)
            before = _totals(server.pid, out)
            load = subprocess.run(
                [wrk_pair.wrk_binary(), "-t1", f"-c{args.connections}", f"-d{args.seconds}s", url],
                capture_output=True,
                text=True,
                timeout=args.seconds + 30,
            )
            after = _totals(server.pid, out)
            cpu1 = wrk_pair._cpu_s(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    responses = wrk_pair._responses(load.stdout, "the probed server")
    span = after["t"] - before["t"]
    print(
        f"trivial app under wrk ({args.connections} connections, {args.seconds} s): "
        f"{responses / args.seconds:.0f} responses/s, server CPU "
        f"{100 * (cpu1 - cpu0) / span:.0f}% of a core over {span:.1f} s"
    )
    print(f"{'part':34s} {'ms/s':>7s} {'calls/s':>9s} {'µs/call':>9s}")
    for label, *_ in (*PARTS, ("gc callback",)):
        ns = after["parts"].get(label, [0, 0])[0] - before["parts"].get(label, [0, 0])[0]
        calls = after["parts"].get(label, [0, 0])[1] - before["parts"].get(label, [0, 0])[1]
        per_call = f"{ns / calls / 1e3:9.1f}" if calls else f"{'-':>9s}"
        print(f"{label:34s} {ns / 1e6 / span:7.3f} {calls / span:9.1f} {per_call}")


if __name__ == "__main__":
    main()
