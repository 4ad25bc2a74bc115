"""Starting the servers of a run: the target (served through the probe) and the downstream."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.processes import Child, free_port
from lagscope.harness.run.startup_failure import service_failure

from lagscope import defaults, rundir, servers
from lagscope.errors import TargetStartError
from lagscope.metric_names import MULTIPROC_ENV

START_TIMEOUT_S = 60.0
LOOPBACK = "127.0.0.1"


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


def start_downstream(config: RunConfig, run_dir: Path, *, deadline: float) -> tuple[Child, str]:
    """Start the payments service the built-in app calls; return it and its URL."""
    port = free_port()
    env = _base_env(config, run_dir, deadline)
    env["DOWNSTREAM_LATENCY_MS"] = str(config.downstream_latency_ms)
    env["DOWNSTREAM_STOCK_LATENCY_MS"] = str(config.downstream_stock_latency_ms)
    argv = [
        sys.executable, "-m", "uvicorn", servers.DOWNSTREAM_APP,
        "--host", LOOPBACK, "--port", str(port), "--loop", "asyncio",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    log = run_dir / rundir.LOGS / rundir.DOWNSTREAM_LOG
    child = Child("downstream", argv, env=env, log_path=log)
    url = f"http://{LOOPBACK}:{port}"
    _wait_until_serving(child, url + "/_config")
    return child, url


def start_target(
    config: RunConfig,
    run_dir: Path,
    *,
    deadline: float,
    downstream_url: str | None,
    admin_token: str | None = None,
) -> tuple[Child, str]:
    """Start uvicorn serving the user's app through the probe; return it and its URL."""
    port = free_port()
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
    argv = server_argv(config, port)
    child = Child("target", argv, env=env, log_path=run_dir / rundir.LOGS / rundir.TARGET_LOG)
    url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_until_serving(child, url + "/")
        if config.probe:
            _wait_for_workers(child, run_dir, config.workers)
    except BaseException:
        child.stop()
        raise
    return child, url


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


def _wait_until_serving(child: Child, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = child.exited()
        if code is not None:
            raise TargetStartError(_exit_message(child, code))
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    child.stop()
    raise TargetStartError(
        f"the {child.name} server did not answer within {START_TIMEOUT_S:.0f}s "
        f"(log: {child.log_path})"
    )


def _exit_message(child: Child, code: int) -> str:
    """Why a server exited before it served: a service its app could not reach, named
    (lagscope.harness.run.startup_failure), else the log's last exception."""
    try:
        log = child.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        log = ""
    why = service_failure(log)
    if why is not None:
        return f"{why} (the {child.name} server exited, code {code}; full log: {child.log_path})"
    return (
        f"the {child.name} server exited during start-up (exit code {code}): "
        f"{child.last_log_line()} (full log: {child.log_path})"
    )


def _wait_for_workers(child: Child, run_dir: Path, workers: int) -> None:
    """Wait until every worker's probe has written its meta.json."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(list(run_dir.glob("workers/*/meta.json"))) < workers:
        if child.exited() is not None or time.monotonic() > deadline:
            raise TargetStartError(
                f"only {len(list(run_dir.glob('workers/*/meta.json')))} of {workers} workers "
                f"started their probe: {child.last_log_line()} (log: {child.log_path})"
            )
        time.sleep(0.1)
