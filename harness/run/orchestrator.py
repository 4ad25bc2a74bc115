"""One run from start to finish: servers up, load on, probes and sampler recording, all down.

Every child is stopped in ``finally``: a Ctrl-C, a crash of the target or an error
in the harness leaves no process behind and keeps what was collected.  While the load
runs the harness also watches its environment: free space under the run directory (below
what finishing needs, the load is stopped: outcome ``disk_full``), its own writes (one that
fails: ``write_failed``) and the load generator's processes (a death is an event; the
whole load generator gone early: ``load_died``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import psutil
from lagscope.harness.run import diskspace
from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.lease import Lease, Mark
from lagscope.harness.run.load import start_load
from lagscope.harness.run.loadwatch import LoadWatch
from lagscope.harness.run.openapi.options import masked_argv
from lagscope.harness.run.openapi.plan import build_plan, pages_plan, refusal
from lagscope.harness.run.openapi.schema import read_schema
from lagscope.harness.run.probe_feed import ProbeCollector
from lagscope.harness.run.processes import Child
from lagscope.harness.run.profiling import request_profile
from lagscope.harness.run.sampler import ResourceSampler
from lagscope.harness.run.target import (
    Progress,
    Startup,
    save_scrape,
    start_servers,
)

from lagscope import defaults, openapi_plan, request_spool, rundir, runfiles
from lagscope.app_routes import served_routes
from lagscope.errors import LoadWorkersError, RunDirError, TargetStartError, UsageError
from lagscope.injection import encode_state

ADMIN_PATH = "/_lagscope/faults"  # the built-in app's fault switch (LAGSCOPE_ADMIN_TOKEN)
LOAD_OVERRUN_S = 30.0  # Locust stops itself at --run-time; this is the harness's backstop
_VERSIONED = ("lagscope", "fastapi", "starlette", "uvicorn", "uvloop", "locust", "pandas", "psutil")


def host_facts() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block: the same cleanup as a Ctrl-C."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Conductor(Protocol):
    """Drives a run while its load goes (a game day switches faults and watches alerts)."""

    def tick(self, run: Run) -> None:
        """Called about ten times a second while the load runs; must return quickly."""

    def close(self, run: Run) -> None:
        """Called once when the run ends, however it ends, before the processes stop."""


class Run:
    """The processes of one run and the directory they write into."""

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        conductor: Conductor | None = None,
        *,
        admin_token: str | None = None,
        progress: Progress | None = None,
        on_ready: Callable[[dict[str, str]], None] | None = None,
        on_note: Callable[[str], None] | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.on_ready = on_ready
        self.lease = lease  # servers started before this run, left running after it
        self.mark: Mark | None = None  # where the lease's files ended when the load started
        self.load_ended: float | None = None  # unix time the load was seen to end
        self.on_note = on_note
        self.config = config
        self.admin_token = admin_token
        self.dir = run_dir
        self.children: dict[str, Child] = {}
        self.outcome = "completed"
        self.conductor = conductor
        self.urls: dict[str, str] = {}  # "target", "downstream": where they serve
        self.progress = progress
        self.sampler: ResourceSampler | None = None
        self._unwritten: list[str] = []  # events a failed write held back
        self.collector: ProbeCollector | None = None  # an external target's probe data

    def roots(self) -> dict[str, int]:
        roles = {"target": "target", "load": "load_generator", "downstream": "downstream"}
        borrowed = self.lease.children if self.lease is not None else {}
        return {
            roles[name]: child.pid for name, child in [*borrowed.items(), *self.children.items()]
        }

    def target(self) -> Child | None:
        """The target process, this run's own or the lease's (None: an external target)."""
        own = self.children.get("target")
        return own if own is not None or self.lease is None else self.lease.target

    def log(self, event: str, **detail: Any) -> None:
        """Log an event; one that cannot be written is kept (and tried again at the end)."""
        line = runfiles.event_line(event, **detail)
        try:
            runfiles.append_event_lines(self.dir, "".join(self._unwritten) + line)
            self._unwritten = []
        except RunDirError as exc:
            self._unwritten.append(line)
            self.write_failed(exc)

    def write_failed(self, exc: RunDirError) -> None:
        """A write failed: the run ends (outcome ``disk_full`` or ``write_failed``) and a
        ``write_failed`` event says which file and why."""
        cause = exc.__cause__
        full = isinstance(cause, OSError) and runfiles.no_space(cause)
        if self.outcome == "completed":
            self.outcome = "disk_full" if full else "write_failed"
        self._unwritten.append(runfiles.event_line("write_failed", detail=str(exc), no_space=full))

    def flush_events(self) -> None:
        """Write the events held back (the reserve was released: there may be room now)."""
        if self._unwritten:
            with contextlib.suppress(RunDirError):
                runfiles.append_event_lines(self.dir, "".join(self._unwritten))
                self._unwritten = []

    def _port_taken(self, server: str, port: int) -> None:
        self.log("port_taken", server=server, port=port)

    def execute(self) -> None:
        config = self.config
        url = self._start_servers() if self.lease is None else self._borrow(self.lease)
        if config.metrics and config.probe:
            self.urls["metrics"] = url + defaults.METRICS_PATH
            self.log("metrics_ready", url=self.urls["metrics"])
        if self.on_ready is not None:
            self.on_ready(dict(self.urls))
        log = self.dir / rundir.LOGS / rundir.TARGET_LOG
        try:
            plan = self._openapi_plan(url, log=log) if config.scenario == "openapi" else None
        except (UsageError, TargetStartError) as exc:  # the app is up; nothing to send
            self.outcome = "refused"
            self.log("run_refused", reason=str(exc))  # the directory says why, as the CLI does
            raise
        if self.lease is not None:
            self.mark = self.lease.mark()
        self.children["load"] = start_load(config, self.dir, host=url, openapi_plan=plan)
        if config.profile_s and config.probe:
            request_profile(self.dir, duration_s=config.duration_s, profile_s=config.profile_s)
        waits = config.workers_wait_s if config.load_workers else 0.0
        self._wait_for_load(time.monotonic() + waits + config.duration_s + LOAD_OVERRUN_S)
        self.load_ended = time.time()
        if config.load_workers:
            check_load_workers(config, self.dir, self.children["load"])

    def _borrow(self, lease: Lease) -> str:
        """A sweep's servers: already serving, and left running after this run."""
        self.urls.update(lease.urls)
        target = lease.target
        self.log("target_ready", url=self.urls["target"], pid=target.pid, argv=target.argv,
                 lease=str(lease.dir))  # fmt: skip
        return self.urls["target"]

    def _start_servers(self) -> str:
        """Start the target (and the built-in app's downstream); return the target's URL."""
        config = self.config
        deadline = (
            time.time() + 2 * config.startup_timeout_s + config.duration_s + LOAD_OVERRUN_S
        )  # the workers' own stop, should the harness be gone
        startup = Startup(
            timeout_s=config.startup_timeout_s,
            progress=self.progress,
            on_port_taken=self._port_taken,
        )
        if config.target is not None:  # someone else's service: nothing to start
            url = config.target
            self.urls["target"] = url
            self.log("target_ready", url=url, external=True)
            if config.probe_token is not None:
                self.collector = ProbeCollector(url, config.probe_token, self.dir)
                self.collector.start()
            return url
        start_servers(config, self.dir, deadline=deadline, startup=startup,
                      children=self.children, urls=self.urls,
                      admin_token=self.admin_token)  # fmt: skip
        target, url = self.children["target"], self.urls["target"]
        self.log("target_ready", url=url, pid=target.pid, argv=target.argv)
        return url

    def _openapi_plan(self, url: str, *, log: Path) -> Path:
        """Read the app's schema, plan its requests (lagscope.harness.run.openapi) and write
        both into the run directory; UsageError when nothing can be sent."""
        config = self.config
        document = read_schema(url, headers=dict(config.headers), log=log)
        runfiles.write_json(self.dir / rundir.OPENAPI_SCHEMA, document)
        weights = dict(config.weights)
        plan = build_plan(document, methods=config.methods, weights=weights, seed=config.seed)
        served = None
        wants_get = config.methods is None or "GET" in config.methods
        if not plan["found"] and wants_get and not config.external:
            # No operation in the schema: the pages the app serves outside it, if any
            # (read by importing the app: not for a --target lagscope cannot import).
            paths = list(document.get("paths") or {})
            served = served_routes(config.app_import, schema_paths=paths)
            pages = None if served is None else pages_plan(served, weights=weights)
            plan = pages or plan
        path = self.dir / rundir.OPENAPI_PLAN
        openapi_plan.write_plan(path, plan)
        runfiles.log_event(
            self.dir, "openapi_plan", found=plan["found"], sent=len(plan["operations"]),
            skipped=len(plan["skipped"]), generation_ms=plan["generation_ms"],
            choice=plan.get("choice"),
        )  # fmt: skip
        refused = refusal(plan, app=config.app, served=served)
        if refused is not None:
            raise UsageError(refused)
        if "choice" in plan and self.on_note is not None:
            self.on_note(plan["choice"])
        return path

    def _wait_for_load(self, until: float) -> None:
        load, target = self.children["load"], self.target()
        space = diskspace.SpaceWatch(self.dir)
        watch = LoadWatch(load)
        while True:
            ended = load.exited() is not None
            for death in watch.poll():
                self.log("load_generator_died", **death.to_json())
                if death.role == "locust":
                    self.outcome = "load_died"
            if ended or self.outcome != "completed":
                return
            if target is not None and target.exited() is not None:
                self.outcome = "target_crashed"
                self.log("target_exited", code=target.exited())
                return
            if time.monotonic() > until:
                self.outcome = "load_overran"
                return
            if self._environment_failed(space):
                return
            if self.conductor is not None:
                self.conductor.tick(self)
            time.sleep(0.1)

    def _environment_failed(self, space: diskspace.SpaceWatch) -> bool:
        """Stop the run (and say why) when free space ran low or a write failed."""
        low = space.low()
        if low is not None:
            self.outcome = "disk_full"
            self.log("disk_low", detail=low.words(), free=low.free, floor=low.floor)
            return True
        error = self.sampler.write_error if self.sampler is not None else None
        if error is not None:
            self.write_failed(runfiles.write_failed(error, self.dir / rundir.RESOURCES))
            self.flush_events()
            return True
        return False

    def save_metrics(self) -> None:
        """--metrics: keep the target's last scrape (metrics.prom) before it stops."""
        url, target = self.urls.get("target"), self.children.get("target")
        if "metrics" not in self.urls or url is None or target is None or target.exited():
            return
        error = save_scrape(url, self.dir)
        if error is not None:
            self.log("metrics_scrape_failed", error=error)

    def stop_all(self) -> None:
        for name in ("load", "target", "downstream"):
            child = self.children.get(name)
            if child is not None:
                code = child.stop()
                self.log("stopped", process=name, code=code)

    def copy_lease_window(self) -> None:
        """A borrowed target: copy what its workers and logs wrote during this run."""
        if self.lease is None or self.mark is None:
            return
        try:
            until = self.load_ended if self.load_ended is not None else time.time()
            self.lease.copy_window(self.mark, self.dir, until=until)
        except OSError as exc:
            self.write_failed(runfiles.write_failed(exc, self.dir / rundir.WORKERS))


def check_load_workers(config: RunConfig, run_dir: Path, load: Child) -> None:
    """LoadWorkersError when the master gave up waiting for its workers (it says so in
    its log), naming how many came and what to start on each load host."""
    try:
        log = load.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    if "Gave up waiting for workers" not in log:
        return
    joined = runfiles.count_events(run_dir, "load_worker_joined")
    raise LoadWorkersError(
        f"{joined} of {config.load_workers} load workers connected to {config.master_bind} "
        f"within {config.workers_wait_s:g}s; start 'lagscope loadgen --master "
        f"{config.master_bind}' on each load host, or lower --load-workers"
    )


def _close(conductor: Conductor | None, current: Run) -> None:
    """Let the conductor finish; its failure must not keep the processes alive."""
    if conductor is None:
        return
    try:
        conductor.close(current)
    except Exception as exc:  # reported as an event; cleanup goes on
        current.log("conductor_failed", error=f"{type(exc).__name__}: {exc}")


def run(
    config: RunConfig,
    *,
    conductor: Conductor | None = None,
    prepare: Callable[[Path], None] | None = None,
    progress: Progress | None = None,
    on_ready: Callable[[dict[str, str]], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    lease: Lease | None = None,
) -> Path:
    """Run the load test ``config`` describes; return the run directory (data merged).

    ``prepare`` writes extra files into the new run directory before anything starts;
    ``conductor`` is ticked while the load runs (see Conductor); ``on_ready`` is told
    where the servers answer (``target``, ``downstream``, ``metrics``) once they do;
    ``on_note`` is told, before the load, what lagscope chose to send when the user did
    not say (the openapi plan's ``choice``); ``progress`` hears about the wait for the
    servers to start.  With ``lease`` the run loads servers started before it (a sweep's)
    instead of starting its own, leaves them running and copies what their probe wrote
    during the run into its directory.  RunDirError when the directory cannot be set up;
    once the run has started, a failed write ends it with what it has (see the outcome).
    """
    run_dir = runfiles.create(config.out)
    if prepare is not None:
        prepare(run_dir)
    admin_token = secrets.token_urlsafe(24)  # per run: game days switch faults with it
    admin: dict[str, Any] = {"path": ADMIN_PATH, "token": admin_token, "state_file": rundir.FAULTS}
    if config.injector:
        # Every worker's injector reads this before it serves: --inject is on from the start.
        (run_dir / rundir.INJECT).write_bytes(encode_state(config.inject, switch_id="start"))
        admin.update(inject_path=rundir.INJECT_PATH, inject_state_file=rundir.INJECT)
    runfiles.write_json(
        run_dir / rundir.RUN_JSON,
        {
            "config": config.to_json(),
            "argv": masked_argv(sys.argv),
            "started": time.time(),
            "host": host_facts(),
            "versions": versions(),
            "admin": admin,
        },
    )
    runfiles.hold_reserve(run_dir, diskspace.report_bytes(config.duration_s))
    runfiles.log_event(run_dir, "run_start")
    current = Run(
        config,
        run_dir,
        conductor,
        admin_token=admin_token,
        progress=progress,
        on_ready=on_ready,
        on_note=on_note,
        lease=lease,
    )
    sampler = ResourceSampler(
        run_dir / rundir.RESOURCES, roots=current.roots, interval_s=config.sample_interval_s
    )
    current.sampler = sampler
    sampler.start()
    try:
        with sigterm_as_interrupt():
            current.execute()
    except KeyboardInterrupt:
        current.outcome = "interrupted"
        current.log("interrupted")  # when: the cleanup below takes a while
    except RunDirError as exc:  # a write in the run directory failed: end with what we have
        current.write_failed(exc)
    except BaseException:
        if current.outcome != "refused":
            current.outcome = "failed"
        raise
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup must finish
        try:
            runfiles.release_reserve(run_dir)  # room for the last writes, even on a full disk
            current.flush_events()
            _close(conductor, current)
            current.save_metrics()
            current.stop_all()
            current.copy_lease_window()  # after the load: the workers' lines up to its end
            if current.collector is not None:
                current.collector.stop()  # after the load: the workers' last lines
            sampler.stop()
            _merge(current)
            current.log("run_end", outcome=current.outcome)
            current.flush_events()
        finally:
            signal.signal(signal.SIGINT, previous)
    return run_dir


def _merge(current: Run) -> None:
    """Merge the request parts; when that cannot be written they stay, readable, in spool/."""
    try:
        request_spool.merge_request_parts(current.dir)
    except RunDirError as exc:
        current.write_failed(exc)
