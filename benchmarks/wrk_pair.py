"""Two servers of the trivial app side by side, each saturated by its own ``wrk``.

The probe's cost without lagscope's load generator in the way: both servers (the app
bare and the app with the probe, through the same factory) run on CPU 0, each in its own
session so autogroup gives each half of it; both ``wrk`` processes run on CPU 1, started
together for the same duration.  A side's figures are wrk's count of the responses it
received, and the server's CPU (psutil, every thread) from just before the loads to just
after them.  wrk is Debian's package (``make ops-tools``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pinning
import psutil

APP = "benchmarks.trivial_app:app"  # served from the repository's root
FACTORY = "lagscope.harness.probe.entry:create_app"
LOOPBACK = "127.0.0.1"
STARTUP_LIMIT_S = 30.0
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: (.*)")


@dataclass(frozen=True)
class WrkFigures:
    rps: float  # responses wrk received, per second of its run
    cpu_us: float  # the server's CPU per response, µs
    server_cpu_pct: float  # the server's CPU over the loads, % of a core
    requests: int


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `make ops-tools` (Debian's wrk package)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _on_cpu(cpu: int) -> None:  # in the child, before exec: every thread it starts inherits
    os.sched_setaffinity(0, {cpu})


def server_argv(factory: str, port: int) -> list[str]:
    """uvicorn serving ``factory`` on the loopback ``port``: one worker, uvloop, httptools,
    no access log."""
    return [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--host", LOOPBACK,
        "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def _server(name: str, probe: bool, out: Path, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "LAGSCOPE_APP": APP, "LAGSCOPE_PROBE": "1" if probe else "0"}
    if probe:
        (out / name).mkdir()
        env["LAGSCOPE_RUN_DIR"] = str(out / name)
    proc = subprocess.Popen(
        server_argv(FACTORY, port),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(out / f"{name}.stderr").open("wb"),
        start_new_session=True,  # its own autogroup: an equal share of CPU 0
        preexec_fn=lambda: _on_cpu(pinning.TARGET_CPU),
    )
    return proc, f"http://{LOOPBACK}:{port}/"


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server for {url} ended early (exit {proc.returncode})")
        try:
            httpx.get(url, timeout=1.0).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the server for {url} did not answer within {STARTUP_LIMIT_S:g} s")


def _cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _responses(output: str, name: str) -> int:
    found = _REQUESTS.search(output)
    if found is None:
        raise SystemExit(f"wrk printed no request count for {name}:\n{output}")
    failed = _NON_2XX.search(output) or _SOCKET_ERRORS.search(output)
    if failed is not None:
        raise SystemExit(f"wrk saw failures against {name}: {failed.group(0)}")
    return int(found.group(1))


def pair(
    sides: tuple[str, str],
    out: Path,
    *,
    duration_s: int,
    connections: int,
    root: Path,
) -> dict[str, WrkFigures]:
    """Serve ``sides`` (``"bare"`` and ``"probe"``, in the order to start them) and load
    both at once; each side's figures."""
    wrk = wrk_binary()
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    loads: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in sides:
            servers[name] = _server(name, name == "probe", out, root)
        for proc, url in servers.values():
            _wait_ready(url, proc)
        time.sleep(1.0)  # the probe's start-up work is over
        cpu0 = {name: _cpu_s(proc.pid) for name, (proc, _) in servers.items()}
        for name, (_, url) in servers.items():
            loads[name] = subprocess.Popen(
                [wrk, "-t1", f"-c{connections}", f"-d{duration_s}s", url],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: _on_cpu(pinning.OTHER_CPU),
            )
        outputs = {
            name: load.communicate(timeout=duration_s + 30)[0].decode()
            for name, load in loads.items()
        }
        cpu1 = {name: _cpu_s(proc.pid) for name, (proc, _) in servers.items()}
    finally:
        for proc in [*loads.values(), *(p for p, _ in servers.values())]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*loads.values(), *(p for p, _ in servers.values())]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    figures = {}
    for name, output in outputs.items():
        n = _responses(output, name)
        cpu = cpu1[name] - cpu0[name]
        figures[name] = WrkFigures(
            rps=n / duration_s,
            cpu_us=cpu / n * 1e6,
            server_cpu_pct=cpu / duration_s * 100,
            requests=n,
        )
    return figures
