"""The load driver: Locust, headless, in its own process (it monkey-patches with gevent)."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from harness.config import RunConfig
from harness.processes import Child

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def start_load(
    config: RunConfig, run_dir: Path, *, host: str, openapi_paths: list[str] | None = None
) -> Child:
    env = dict(os.environ)
    env.update(
        LAGSCOPE_RUN_DIR=str(run_dir.resolve()),
        LAGSCOPE_SCENARIO_FILE=str(config.scenario_file),
        LAGSCOPE_SEED=str(config.seed),
        PYTHONUNBUFFERED="1",
    )
    if config.allow_remote_target:
        env["LAGSCOPE_ALLOW_REMOTE"] = "1"
    if openapi_paths is not None:
        env["LAGSCOPE_OPENAPI_PATHS"] = json.dumps(openapi_paths)
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(config.users), "--spawn-rate", f"{config.spawn_rate:g}",
        "--run-time", f"{max(1, math.ceil(config.duration_s))}s", "--stop-timeout", "2",
        "--host", host, "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    return Child("load", argv, env=env, log_path=run_dir / "logs" / "locust.log")
