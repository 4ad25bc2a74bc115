"""What the harness serves in each worker: ``lagscope.harness.probe.entry:create_app``
(``uvicorn … --factory``).

The harness passes everything through the environment (workers are separate
processes, started by uvicorn or gunicorn, which can only be given an import string):

    LAGSCOPE_APP                  the user's app, ``module:attribute``
    LAGSCOPE_CODE                 further packages of the user's code, comma-separated (--code)
    LAGSCOPE_RUN_DIR              where each worker writes ``workers/<pid>/`` (optional
                                  with LAGSCOPE_METRICS_PATH: then nothing goes to disk)
    LAGSCOPE_METRICS_PATH         answer Prometheus scrapes at this path (``/metrics``)
    LAGSCOPE_STALL_LOCATIONS      metrics: ``location`` labels per worker (default 20)
    LAGSCOPE_PROBE                ``1`` to probe, ``0`` to serve the app bare
    LAGSCOPE_INTERVAL_MS          heartbeat interval
    LAGSCOPE_STALL_THRESHOLD_MS   lag above which the watchdog samples stacks
    LAGSCOPE_DEADLINE             unix time after which the worker stops itself
    LAGSCOPE_HARNESS_PID          the worker stops itself when this process is gone
    LAGSCOPE_THREADPOOL           tokens of anyio's default thread limiter (sync endpoints)
    LAGSCOPE_PROFILE              ``1``: profile the window the harness asks for
    LAGSCOPE_INJECT_TOKEN         the run's token: the fault injector is on (off without it)
    LAGSCOPE_INJECT_FILE          the injector's state file, shared by every worker
    LAGSCOPE_MEMORY_CAP_MB        RSS at which memory_leak stops growing
    LAGSCOPE_SEED                 seed of the injector's random choices (probabilities)
"""

from __future__ import annotations

import os
from pathlib import Path

from lagscope.harness.probe.asgi import ASGIApp, InstrumentedApp, ProbeOptions
from lagscope.harness.probe.guard import Guard
from lagscope.harness.probe.inject.injector import Injector
from lagscope.harness.probe.user_code import app_package

from lagscope import defaults, rundir
from lagscope.app_import import load_app
from lagscope.errors import UsageError


def user_code(import_string: str, code: str) -> tuple[str, ...]:
    """The packages whose frames are the user's: the app's own (harness.probe.user_code)
    and those of ``code`` (comma-separated, from ``--code``)."""
    package = app_package(import_string.partition(":")[0])
    extra = [name.strip() for name in code.split(",") if name.strip()]
    return tuple(dict.fromkeys([*([package] if package else []), *extra]))


def _float_env(name: str, default: float | None) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else default


def create_app() -> InstrumentedApp:
    """Import the user's app and wrap it with the probe as the environment says."""
    import_string = os.environ[rundir.ENV_APP]
    app: ASGIApp = load_app(import_string)
    harness_pid = os.environ.get(rundir.ENV_HARNESS_PID)
    Guard(
        deadline=_float_env(rundir.ENV_DEADLINE, None),
        harness_pid=int(harness_pid) if harness_pid else None,
    ).start()
    options = None
    run_dir = os.environ.get(rundir.ENV_RUN_DIR) or None
    metrics_path = os.environ.get(rundir.ENV_METRICS_PATH) or None
    if os.environ.get(rundir.ENV_PROBE, "1") == "1":
        if run_dir is None and metrics_path is None:
            raise UsageError(
                f"the probe needs {rundir.ENV_RUN_DIR} (a run directory) or "
                f"{rundir.ENV_METRICS_PATH} (e.g. /metrics), or both"
            )
        locations = os.environ.get(rundir.ENV_STALL_LOCATIONS)
        options = ProbeOptions(
            run_dir=run_dir,
            metrics_path=metrics_path,
            stall_locations=int(locations) if locations else defaults.STALL_LOCATIONS,
            user_code=user_code(import_string, os.environ.get(rundir.ENV_CODE, "")),
            interval_ms=_float_env(rundir.ENV_INTERVAL_MS, None) or defaults.PROBE_INTERVAL_MS,
            stall_threshold_ms=(
                _float_env(rundir.ENV_STALL_THRESHOLD_MS, None) or defaults.STALL_THRESHOLD_MS
            ),
            app_name=import_string,
            profile=os.environ.get(rundir.ENV_PROFILE, "0") == "1",
        )
    threadpool = os.environ.get(rundir.ENV_THREADPOOL)
    return InstrumentedApp(
        app,
        options,
        threadpool=int(threadpool) if threadpool else None,
        injector=injector_from_env(),
    )


def injector_from_env() -> Injector | None:
    """The fault injector, when the harness enabled it for the run (else None: off)."""
    token = os.environ.get(rundir.ENV_INJECT_TOKEN, "")
    if not token:
        return None
    run_dir = Path(os.environ[rundir.ENV_RUN_DIR])
    state_file = os.environ.get(rundir.ENV_INJECT_FILE) or str(run_dir / rundir.INJECT)
    return Injector(
        token=token,
        state_file=Path(state_file),
        run_dir=run_dir,
        deadline=_float_env(rundir.ENV_DEADLINE, None),
        memory_cap_mb=_float_env(rundir.ENV_MEMORY_CAP_MB, None) or defaults.MEMORY_CAP_MB,
        seed=int(os.environ.get(rundir.ENV_SEED) or 0),
    )
