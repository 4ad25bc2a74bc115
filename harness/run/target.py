"""Starting the servers of a run: the target (served through the probe) and the downstream."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.processes import Child, free_port
from lagscope.harness.run.startup_failure import service_failure

from lagscope import defaults, rundir, servers
from lagscope.errors import TargetStartError
from lagscope.metric_names import MULTIPROC_ENV

LOOPBACK = "127.0.0.1"
PORT_ATTEMPTS = 3  # a port taken between choosing it and binding it is retried on another


def _base_env(config: RunConfig, run_dir: Path, deadline: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        rundir.ENV_RUN_DIR: str(run_dir.resolve()),
        rundir.ENV_DEADLINE: f"{deadline:.0f}",
        rundir.ENV_HARNESS_PID: str(os.getpid()),
        rundir.ENV_SEED: str(config.seed),
        "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    return env


class PortTaken(Exception):
    """The server could not bind its port: another process took it after it was chosen."""


# What uvicorn and gunicorn log when their port is taken.
_PORT_IN_USE = ("address already in use", "Connection in use", "Errno 98")


class Progress(Protocol):
    def __call__(self, what: str, waited_s: float, timeout_s: float) -> None:
        """Called about once a second while ``what`` is awaited."""


@dataclass(frozen=True, kw_only=True)
class Startup:
    """How long a server may take to start, and who hears about the wait."""

    timeout_s: float = defaults.STARTUP_TIMEOUT_S
    progress: Progress | None = None
    on_port_taken: Callable[[str, int], None] | None = None  # (server, port) before a retry
    ports: Iterator[int] | None = None  # ports to try, in order (default: free ones)

    def next_port(self) -> int:
        return next(self.ports) if self.ports is not None else free_port()


def start_downstream(
    config: RunConfig, run_dir: Path, *, deadline: float, startup: Startup | None = None
) -> tuple[Child, str]:
    """Start the payments service the built-in app calls; return it and its URL."""
    env = _base_env(config, run_dir, deadline)
    env["DOWNSTREAM_LATENCY_MS"] = str(config.downstream_latency_ms)
    env["DOWNSTREAM_STOCK_LATENCY_MS"] = str(config.downstream_stock_latency_ms)

    def argv(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", servers.DOWNSTREAM_APP,
            "--host", LOOPBACK, "--port", str(port), "--loop", "asyncio",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip

    log = run_dir / rundir.LOGS / rundir.DOWNSTREAM_LOG
    return _start_server("downstream", argv, env, log, "/_config", startup or Startup())


def start_target(
    config: RunConfig,
    run_dir: Path,
    *,
    deadline: float,
    downstream_url: str | None,
    admin_token: str | None = None,
    startup: Startup | None = None,
) -> tuple[Child, str]:
    """Start uvicorn serving the user's app through the probe; return it and its URL.

    Waits until it answers and (with the probe) every worker's probe has started, up to
    ``startup.timeout_s`` in all; a port taken at bind time is retried on another.
    """
    startup = startup or Startup()
    env = _base_env(config, run_dir, deadline)
    env.update({
        rundir.ENV_APP: config.app_import,
        rundir.ENV_CODE: ",".join(config.code),
        rundir.ENV_PROBE: "1" if config.probe else "0",
        rundir.ENV_INTERVAL_MS: str(config.interval_ms),
        rundir.ENV_STALL_THRESHOLD_MS: str(config.stall_threshold_ms),
        rundir.ENV_MEMORY_CAP_MB: f"{config.memory_cap_mb:g}",
        rundir.ENV_RELAY_LATENCY_MS: f"{config.relay_latency_ms:g}",
        rundir.ENV_PROFILE: "1" if config.profile_s else "0",
        "SHOP_FAULTS": ",".join(config.faults),
    })  # fmt: skip
    if admin_token:  # switches on the app's admin endpoint (shop: PUT /_lagscope/faults)
        env[rundir.ENV_ADMIN_TOKEN] = admin_token
        # A switch goes through this file, so it reaches every worker, not just the one
        # that answers the PUT.
        env[rundir.ENV_FAULT_FILE] = str((run_dir / rundir.FAULTS).resolve())
    if config.injector and admin_token:  # the probe's injector, on for this run only
        env[rundir.ENV_INJECT_TOKEN] = admin_token
        env[rundir.ENV_INJECT_FILE] = str((run_dir / rundir.INJECT).resolve())
    if downstream_url is not None:
        env["SHOP_DOWNSTREAM_URL"] = downstream_url
    if config.threadpool is not None:
        env[rundir.ENV_THREADPOOL] = str(config.threadpool)
    if config.metrics and config.probe:
        # Every worker writes its values here; each scrape merges them (multiprocess mode).
        multiproc = run_dir / rundir.PROMETHEUS_MULTIPROC
        multiproc.mkdir(exist_ok=True)
        env[rundir.ENV_METRICS_PATH] = defaults.METRICS_PATH
        env[MULTIPROC_ENV] = str(multiproc.resolve())
    log = run_dir / rundir.LOGS / rundir.TARGET_LOG
    workers = config.workers if config.probe else 0
    return _start_server(
        "target", lambda port: server_argv(config, port), env, log, "/", startup,
        run_dir=run_dir, workers=workers,
    )  # fmt: skip


def start_servers(
    config: RunConfig,
    run_dir: Path,
    *,
    deadline: float,
    startup: Startup,
    children: dict[str, Child],
    urls: dict[str, str],
    admin_token: str | None = None,
) -> None:
    """Start the built-in app's downstream (when the app has one), then the target.

    Each goes into ``children`` and ``urls`` (``downstream``, ``target``) as soon as it
    serves, so that whoever owns them stops it should a later start fail.
    """
    downstream_url = None
    if config.builtin_app:
        downstream, downstream_url = start_downstream(
            config, run_dir, deadline=deadline, startup=startup
        )
        children["downstream"] = downstream
        urls["downstream"] = downstream_url
    target, url = start_target(
        config, run_dir, deadline=deadline, downstream_url=downstream_url,
        admin_token=admin_token, startup=startup,
    )  # fmt: skip
    children["target"] = target
    urls["target"] = url


def _start_server(
    name: str,
    argv: Callable[[int], list[str]],
    env: dict[str, str],
    log: Path,
    ready_path: str,
    startup: Startup,
    *,
    run_dir: Path | None = None,
    workers: int = 0,
) -> tuple[Child, str]:
    """Start a server on a free port and wait until it serves; another port if it was taken."""
    deadline = time.monotonic() + startup.timeout_s
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = startup.next_port()
        child = Child(name, argv(port), env=env, log_path=log)
        url = f"http://{LOOPBACK}:{port}"
        try:
            _wait_until_serving(child, url, ready_path, port, startup, deadline)
            if run_dir is not None and workers:
                _wait_for_workers(child, run_dir, workers, startup, deadline)
        except PortTaken:
            child.stop()
            if attempt == PORT_ATTEMPTS:
                raise TargetStartError(
                    f"the {name} server found each of {PORT_ATTEMPTS} free ports taken when it "
                    f"bound them; another program is grabbing ports on {LOOPBACK}: stop it and "
                    "run again",
                    log_tail=child.log_tail(),
                ) from None
            if startup.on_port_taken is not None:
                startup.on_port_taken(name, port)
            continue
        except BaseException:
            child.stop()
            raise
        return child, url
    raise AssertionError("unreachable")  # the loop returns or raises


def _failed(child: Child, what: str, fix: str) -> TargetStartError:
    """The one-line error of a server that did not start, with its log's last lines."""
    tail = child.log_tail()
    kept = f"its log is kept ({child.log_path}{', last lines below' if tail else ''})"
    return TargetStartError(
        f"{what}: {child.last_log_line() or 'it logged nothing'}; nothing was measured, {kept}; "
        f"{fix}",
        log_tail=tail,
    )


def check_alive(child: Child) -> None:
    """Raise when ``child`` exited during its start-up: PortTaken when its port was taken,
    else TargetStartError saying why (a service its app needs, named, or its log's last
    exception) with the log's last lines."""
    code = child.exited()
    if code is None:
        return
    if any(marker in line for line in child.log_lines() for marker in _PORT_IN_USE):
        raise PortTaken
    why = service_failure(child.log_text())  # a service its app needs did not answer: which
    if why is not None:
        tail = child.log_tail()
        raise TargetStartError(
            f"{why} (the {child.name} server exited, code {code}; full log: {child.log_path}"
            f"{', last lines below' if tail else ''})",
            log_tail=tail,
        )
    raise _failed(
        child,
        f"the {child.name} server exited during start-up (exit code {code})",
        "fix what its log says and run again",
    )


def _waited(child: Child, startup: Startup, deadline: float, what: str) -> None:
    """Report progress; raise when the start-up timeout has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _failed(
            child,
            f"the {child.name} server {what} within {startup.timeout_s:g}s (--startup-timeout)",
            "if it loads something big at start, raise --startup-timeout",
        )
    if startup.progress is not None:
        startup.progress(f"the {child.name} server", startup.timeout_s - left, startup.timeout_s)


def _wait_until_serving(
    child: Child, url: str, path: str, port: int, startup: Startup, deadline: float
) -> None:
    """Wait until the server answers at ``url + path`` and is the one listening there."""
    last_note = 0.0
    while True:
        check_alive(child)
        try:
            httpx.get(url + path, timeout=1.0)
            if child.listens_on(port):
                return
        except httpx.TransportError:
            pass
        if time.monotonic() - last_note >= 1.0:
            last_note = time.monotonic()
            _waited(child, startup, deadline, "did not answer")
        time.sleep(0.1)


def _wait_for_workers(
    child: Child, run_dir: Path, workers: int, startup: Startup, deadline: float
) -> None:
    """Wait until every worker's probe has written its meta.json."""
    last_note = 0.0
    while len(list(run_dir.glob(f"{rundir.WORKERS}/*/{rundir.META}"))) < workers:
        check_alive(child)
        if time.monotonic() - last_note >= 1.0:
            last_note = time.monotonic()
            started = len(list(run_dir.glob(f"{rundir.WORKERS}/*/{rundir.META}")))
            _waited(
                child, startup, deadline, f"started the probe in {started} of {workers} workers"
            )
        time.sleep(0.1)


def server_argv(config: RunConfig, port: int) -> list[str]:
    """The command line of the target server: uvicorn, or gunicorn with uvicorn workers."""
    if config.server == "gunicorn":
        return [
            sys.executable, "-m", "gunicorn", f"{servers.PROBE_FACTORY}()",
            "--bind", f"{LOOPBACK}:{port}", "--workers", str(config.workers),
            "--worker-class", servers.GUNICORN_WORKERS[config.loop],
            "--chdir", os.getcwd(), "--graceful-timeout", "3", "--log-level", "warning",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", servers.PROBE_FACTORY, "--factory",
        "--host", LOOPBACK, "--port", str(port), "--workers", str(config.workers),
        "--loop", config.loop, "--http", "httptools", "--log-level", "warning",
        "--no-access-log", "--app-dir", os.getcwd(), "--timeout-graceful-shutdown", "3",
    ]  # fmt: skip


def save_scrape(url: str, run_dir: Path) -> str | None:
    """Scrape the target's metrics once into the run directory; the error, if it failed."""
    try:
        response = httpx.get(url + defaults.METRICS_PATH, timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    (run_dir / rundir.METRICS_SCRAPE).write_text(response.text, encoding="utf-8")
    return None
