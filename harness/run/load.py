"""The load driver: Locust, headless, in its own process (it monkey-patches with gevent)."""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
from pathlib import Path

from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.processes import Child, free_port

from lagscope import rundir
from lagscope.arrivals import ENV_OPTIONS, PlanOptions

LOCUSTFILE = Path(__file__).resolve().parents[1] / "loadgen" / "locustfile.py"
# Rate mode: Locust's --run-time is only a backstop (the dispatchers end the test when the
# plan is sent and drained); it leaves room for their lead, drain and clean-up (~4.5 s).
RATE_MODE_EXTRA_S = 8.0


def open_model_options(config: RunConfig) -> PlanOptions:
    """The plan options every load-generator process receives (each takes its share)."""
    assert config.rate is not None
    return PlanOptions(
        rate=config.rate, arrivals=config.arrivals, duration_s=config.duration_s,
        seed=config.seed, max_users=max(1, math.ceil(config.max_users / config.load_processes)),
        procs=config.load_processes,
    )  # fmt: skip


def start_load(
    config: RunConfig, run_dir: Path, *, host: str, openapi_plan: Path | None = None
) -> Child:
    env = dict(os.environ)
    env.update({
        rundir.ENV_RUN_DIR: str(run_dir.resolve()),
        rundir.ENV_SCENARIO_FILE: str(config.scenario_file),
        rundir.ENV_SEED: str(config.seed),
        "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    if config.allow_remote_target:
        env[rundir.ENV_ALLOW_REMOTE] = "1"
    if openapi_plan is not None:
        env[rundir.ENV_OPENAPI_PLAN] = str(openapi_plan.resolve())
        env[rundir.ENV_OPENAPI_HEADERS] = json.dumps([list(pair) for pair in config.headers])
    if config.rate is not None:
        env[ENV_OPTIONS] = open_model_options(config).to_env()
        # One dispatcher per process; Locust's run-time leaves room for the plan to drain.
        users, spawn_rate = config.load_processes, float(config.load_processes)
        run_time = math.ceil(config.duration_s + RATE_MODE_EXTRA_S)
    else:
        users, spawn_rate = config.users or 1, config.spawn_rate
        run_time = max(1, math.ceil(config.duration_s))
    locustfile = LOCUSTFILE if not config.load_workers else loadgen_locustfile(config, run_dir)
    argv = [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
        "--users", str(users), "--spawn-rate", f"{spawn_rate:g}",
        "--run-time", f"{run_time}s", "--stop-timeout", "2",
        "--host", host, "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    if config.load_procs > 1:
        # The master and its workers talk over TCP, on every interface and port 5557 unless
        # told: loopback only, and a free port so that two runs on one machine do not meet.
        port = str(free_port())
        argv += [
            "--processes", str(config.load_procs), "--master-bind-host", "127.0.0.1",
            "--master-bind-port", port, "--master-host", "127.0.0.1", "--master-port", port,
        ]  # fmt: skip
    if config.load_workers:
        assert config.master_bind is not None  # checked with the flags
        host, port = config.master_bind.rsplit(":", 1)
        argv += [
            "--master", "--master-bind-host", host.strip("[]"), "--master-bind-port", port,
            "--expect-workers", str(config.load_workers),
            "--expect-workers-max-wait", f"{config.workers_wait_s:g}",
        ]  # fmt: skip
    return Child("load", argv, env=env, log_path=run_dir / rundir.LOGS / rundir.LOCUST_LOG)


def loadgen_locustfile(config: RunConfig, run_dir: Path) -> Path:
    """Write the locustfile the master sends every ``lagscope loadgen`` (Locust's ``-f -``):
    the scenario's source and the run's options, handed to harness.loadgen.distributed."""
    options = {
        "scenario": config.scenario,
        "seed": config.seed,
        "allow_remote": config.allow_remote_target,
        "open_model": open_model_options(config).to_env() if config.rate is not None else None,
    }
    source = config.scenario_file.read_text(encoding="utf-8")
    path = run_dir / rundir.loadgen_locustfile(secrets.token_hex(4))
    path.write_text(
        f"""\"\"\"Written by lagscope for the run in this folder: Locust's master sends it to each
`lagscope loadgen --master HOST:PORT` (-f -).  The scenario is {config.scenario_file.name}.\"\"\"

import json

from lagscope.harness.loadgen import distributed

SCENARIO = {source!r}
OPTIONS = json.loads({json.dumps(options)!r})

globals().update(distributed.setup(SCENARIO, OPTIONS, path=__file__))
""",
        encoding="utf-8",
    )
    return path
