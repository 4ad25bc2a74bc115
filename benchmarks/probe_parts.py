"""Where the probe's time goes inside a saturated worker: each part timed where it runs.

The end-to-end benchmarks (``probe_overhead.py``) say what the whole probe costs; an
ablation of one part at a time is below what they resolve (about ±1 % for a median of
8 rounds, docs/performance.md).  This script times the parts themselves, in place: the
trivial app is served through the probe by ``create_app`` below (the probe's factory,
with its parts wrapped in ``perf_counter_ns`` timers), saturated by ``wrk`` on the other
CPU, and each part's wall time per call and per second of the load is printed.  With
``--shop`` the shop runs at saturation instead (``lagscope run``, its target alone on CPU
0, Locust on CPU 1), its worker timed through ``probe_parts_site/sitecustomize.py``; the
SQLAlchemy hooks are then timed too, as SQLAlchemy's own ``Session.__init__`` and
``Pool.connect`` with and without them.

Wall time, not CPU time: a CPU clock is a system call (~3 µs here), more than some parts.
A part's figure therefore includes any interrupt, preemption or young collection that
lands inside it, and each wrapper adds its own two clock reads.  Nested parts (the beat's
``schedstat`` read and alarm re-arm, the gauge sample's walk) are inside their parent's
figure.

    .venv/bin/python benchmarks/probe_parts.py [--seconds 10] [--connections 32]
    .venv/bin/python benchmarks/probe_parts.py --shop [--seconds 10] [--users 96]
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
SITE = Path(__file__).resolve().parent / "probe_parts_site"  # --shop: its sitecustomize
SESSION_OWN = "  session: SQLAlchemy's own __init__"
SESSION_HOOKED = "session opened (__init__ with the hook)"
CHECKOUT_OWN = "  checkout: the pool's own connect"
CHECKOUT_HOOKED = "checkout (connect with the hook)"

# (label, module, owner attribute or "" for a module function, name)
PARTS = (
    ("beat", "heartbeat", "Heartbeat", "_on_time"),
    ("  beat: schedstat read", "heartbeat", "Heartbeat", "_waited_s"),
    ("  beat: alarm re-arm", "alarm", "Alarm", "rearm"),
    ("gauge sample", "gauges", "", "sample"),
    ("  gauge: walk of tasks", "gauges", "", "wait_sites"),
    ("  gauge: thread limiter", "gauges", "", "thread_limiter"),
    ("  gauge: held sessions", "gauges", "", "held_sites"),
    # Inside the session hook: the walk to the user's frame (one frame deeper for its timer).
    ("session: its site noted", "hooks", "", "_opened_here"),
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


def _wrap_sqlalchemy(totals: dict[str, list[int]]) -> None:
    """Time SQLAlchemy's ``Session.__init__`` and ``Pool.connect`` before the probe's hooks
    wrap them and again after: the difference is the hooks' (the timer around the hooked
    ``__init__`` adds one frame to the session hook's walk)."""
    from lagscope.harness.probe import hooks

    install = hooks.install_sqlalchemy

    def timed_install() -> bool:
        if "sqlalchemy" in hooks._installed or "sqlalchemy" not in sys.modules:
            return install()
        from sqlalchemy.orm import Session
        from sqlalchemy.pool import Pool

        Session.__init__ = _timed(SESSION_OWN, Session.__init__, totals)  # type: ignore[method-assign]
        Pool.connect = _timed(CHECKOUT_OWN, Pool.connect, totals)  # type: ignore[method-assign]
        installed = install()
        Session.__init__ = _timed(SESSION_HOOKED, Session.__init__, totals)  # type: ignore[method-assign]
        Pool.connect = _timed(CHECKOUT_HOOKED, Pool.connect, totals)  # type: ignore[method-assign]
        return installed

    hooks.install_sqlalchemy = timed_install


def install() -> None:
    """Time the probe's parts in this process; on SIGUSR1 the totals so far go to
    ``$LAGSCOPE_BENCH_PARTS_OUT/<pid>.json``.  Call on the main thread, before the probe
    starts."""
    totals: dict[str, list[int]] = {}
    _wrap_parts(totals)
    _wrap_sqlalchemy(totals)
    path = Path(os.environ[ENV_OUT]) / f"{os.getpid()}.json"

    def dump(signum: int, frame: object) -> None:
        path.write_text(json.dumps({"t": time.perf_counter(), "parts": totals}))

    signal.signal(signal.SIGUSR1, dump)


def create_app() -> Any:
    """The probe's factory (``entry.create_app``) with the probe's parts timed (``install``;
    uvicorn calls the factory on its main thread)."""
    from lagscope.harness.probe import entry

    install()
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


def _table(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Each part's wall time per second of the window, calls per second and time per call;
    then the SQLAlchemy hooks' own share (hooked minus SQLAlchemy's own), when they ran."""
    span = (after["t"] - before["t"]) or 1e-9

    def delta(label: str) -> tuple[int, int]:
        b, a = before["parts"].get(label, [0, 0]), after["parts"].get(label, [0, 0])
        return a[0] - b[0], a[1] - b[1]

    print(f"{'part':40s} {'ms/s':>7s} {'calls/s':>9s} {'µs/call':>9s}")
    labels = [label for label, *_ in PARTS] + ["gc callback"]
    labels += [SESSION_HOOKED, SESSION_OWN, CHECKOUT_HOOKED, CHECKOUT_OWN]
    for label in labels:
        ns, calls = delta(label)
        if label.startswith(("session", "  session", "checkout", "  checkout")) and not calls:
            continue  # an app without SQLAlchemy
        per_call = f"{ns / calls / 1e3:9.1f}" if calls else f"{'-':>9s}"
        print(f"{label:40s} {ns / 1e6 / span:7.3f} {calls / span:9.1f} {per_call}")
    for hooked, own, name in (
        (SESSION_HOOKED, SESSION_OWN, "session hook"),
        (CHECKOUT_HOOKED, CHECKOUT_OWN, "checkout hook"),
    ):
        (ns_hooked, calls), (ns_own, _) = delta(hooked), delta(own)
        if calls:
            extra = ns_hooked - ns_own
            print(f"{name + ' (the difference)':40s} {extra / 1e6 / span:7.3f} "
                  f"{calls / span:9.1f} {extra / calls / 1e3:9.1f}")  # fmt: skip


def under_wrk(*, seconds: int, connections: int, root: Path) -> None:
    import pinning
    import wrk_pair

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
        server = subprocess.Popen(
            wrk_pair.server_argv(FACTORY, port),
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
                [wrk_pair.wrk_binary(), "-t1", f"-c{connections}", f"-d{seconds}s", url],
                capture_output=True,
                text=True,
                timeout=seconds + 30,
            )
            after = _totals(server.pid, out)
            cpu1 = wrk_pair._cpu_s(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    responses = wrk_pair._responses(load.stdout, "the probed server")
    print(
        f"trivial app under wrk ({connections} connections, {seconds} s): "
        f"{responses / seconds:.0f} responses/s, server CPU "
        f"{100 * (cpu1 - cpu0) / (after['t'] - before['t']):.0f}% of a core over "
        f"{after['t'] - before['t']:.1f} s"
    )
    _table(before, after)


def shop(*, seconds: int, users: int, root: Path) -> None:
    """The shop at saturation (``lagscope run``, the target alone on CPU 0): its worker
    times the parts through ``probe_parts_site/sitecustomize.py``."""
    import pinning
    import side_by_side

    with tempfile.TemporaryDirectory(prefix="probe-parts-") as tmp:
        out, run_dir = Path(tmp), Path(tmp) / "run"
        path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
        argv = [
            sys.executable, "-m", "lagscope", "run", "--app", "shop",
            "--scenario", str(root / "benchmarks" / "saturate.py"), "--users", str(users),
            "--spawn-rate", "100", "--duration", f"{seconds + 60}s", "--out", str(run_dir),
        ]  # fmt: skip
        run = subprocess.Popen(
            argv,
            cwd=root,
            env={**os.environ, "PYTHONPATH": path, ENV_OUT: str(out)},
            stdout=subprocess.DEVNULL,
            stderr=(out / "run.stderr").open("wb"),
            start_new_session=True,
        )
        try:
            with pinning.Pinner([run.pid]):
                deadline = time.monotonic() + side_by_side.STARTUP_LIMIT_S
                while not side_by_side._spawned(run_dir):
                    if run.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the run did not start its load: {out / 'run.stderr'}")
                    time.sleep(0.1)
                time.sleep(2.0)  # every user started, the probe's start-up work over
                (worker,) = (int(p.name) for p in (run_dir / "workers").iterdir())
                before = _totals(worker, out)
                time.sleep(seconds)
                after = _totals(worker, out)
                run.send_signal(signal.SIGINT)
                run.wait(timeout=120)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGTERM)
                run.wait()
    print(f"shop at saturation ({users} users, {seconds} s, the worker on a core of its own)")
    _table(before, after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds timed")
    parser.add_argument("--connections", type=int, default=32, help="wrk's")
    parser.add_argument("--shop", action="store_true", help="the shop under Locust instead")
    parser.add_argument("--users", type=int, default=96, help="--shop: Locust users")
    args = parser.parse_args()
    import pinning

    if not pinning.Pinner.possible():
        raise SystemExit("probe_parts.py needs two CPUs (0 and 1)")
    pinning.Pinner.pin_self()
    root = Path(__file__).resolve().parent.parent
    if args.shop:
        shop(seconds=args.seconds, users=args.users, root=root)
    else:
        under_wrk(seconds=args.seconds, connections=args.connections, root=root)


if __name__ == "__main__":
    main()
