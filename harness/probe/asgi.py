"""The ASGI wrapper that starts the probe inside a worker, via the lifespan protocol.

What the probe measures goes to the run directory (``run_dir``: lagscope's own runs),
to Prometheus metrics answered on the app's own port (``metrics_path``), to an
OpenTelemetry Meter (``otel``), or several of these.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import CodeType
from typing import Any

import anyio.to_thread
from lagscope.harness.probe import exposition, feed
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.gauges import GaugeSampler
from lagscope.harness.probe.gcpauses import GcLog
from lagscope.harness.probe.heartbeat import Heartbeat
from lagscope.harness.probe.http_metrics import RequestMetrics
from lagscope.harness.probe.inject import admin
from lagscope.harness.probe.inject.injector import Injector
from lagscope.harness.probe.metrics import MetricsSink, instruments, worker_label
from lagscope.harness.probe.metrics_gauges import (
    GaugeLoop,
    GcPauses,
    PauseRecorder,
    PromGauges,
    PromPauses,
    Publisher,
)
from lagscope.harness.probe.otel import OtelProbe, otel_meter
from lagscope.harness.probe.profiler import profile_when_asked
from lagscope.harness.probe.recorder import Recorder
from lagscope.harness.probe.routes import endpoint_names
from lagscope.harness.probe.sink import Tee
from lagscope.harness.probe.unhandled import UnhandledLog
from lagscope.harness.probe.user_code import app_package
from lagscope.harness.probe.watchdog import StallSink, Watchdog

from lagscope import defaults, metric_names, rundir
from lagscope.errors import MetricsSetupError, UsageError

INJECT_PATH = rundir.INJECT_PATH
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ProbeOptions:
    """How the probe measures, and where it puts it; the defaults are the CLI's."""

    run_dir: str | None  # workers/<pid>/ files go here; None: nothing is written to disk
    metrics_path: str | None = None  # Prometheus metrics answered here; None: no metrics
    otel: bool = False  # also record into an OpenTelemetry Meter (lagscope[otel])
    stall_locations: int = defaults.STALL_LOCATIONS  # metrics: location labels per worker
    # The user's code (harness.probe.user_code): packages by import name, and folders
    # whose every file is the user's.  Neither given: the current folder.
    user_code: tuple[str, ...] = ()
    app_root: str | None = None
    interval_ms: float = defaults.PROBE_INTERVAL_MS
    stall_threshold_ms: float = defaults.STALL_THRESHOLD_MS
    sample_ms: float = defaults.PROBE_SAMPLE_MS
    app_name: str = ""
    gauge_interval_ms: float = defaults.GAUGE_INTERVAL_MS
    profile: bool = False  # the window the harness asks for (probe.profiler)
    # probe_token without run_dir: the files go to a temporary folder of this worker's,
    # made when the probe starts and removed when it stops (harness.probe.feed)
    private_files: bool = False


class _Probe:
    """Heartbeat + watchdog + recorder of one worker, started on its running loop."""

    def __init__(self, app: ASGIApp, options: ProbeOptions, *, meter_provider: Any = None) -> None:
        self.app = app
        self.options = options
        self.watchdog: Watchdog | None = None
        self.heartbeat: Heartbeat | None = None
        self.gauges: GaugeSampler | None = None
        self.gc: GcLog | None = None
        self.unhandled: UnhandledLog | None = None
        self.metric_gauges: GaugeLoop | None = None
        self._endpoints: Mapping[CodeType, str] | None = None
        self._profile_task: asyncio.Task[None] | None = None
        self.requests = (
            RequestMetrics(instruments(), self.endpoints) if options.metrics_path else None
        )
        self._meter = otel_meter(meter_provider) if options.otel else None
        self.otel: OtelProbe | None = None  # created in the worker, at start

    @property
    def measures_requests(self) -> bool:
        return self.requests is not None or self._meter is not None

    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        if self.requests is not None:
            self.requests.observe(scope, status, seconds)
        if self.otel is not None:
            self.otel.observe_request(scope, status, seconds, self.endpoints())

    def endpoints(self) -> Mapping[CodeType, str]:
        if self._endpoints is None:
            self._endpoints = endpoint_names(self.app)
        return self._endpoints

    def start(self) -> None:
        if self.options.private_files and self.options.run_dir is None:
            self.options = replace(self.options, run_dir=feed.private_dir())
        opts = self.options
        loop = asyncio.get_running_loop()
        folders = [opts.app_root] if opts.app_root else []
        if not folders and not opts.user_code:
            folders = [os.getcwd()]
        frame_filter = FrameFilter.build(packages=opts.user_code, folders=folders)
        sinks: list[StallSink] = []
        recorder = None
        if opts.run_dir is not None:
            recorder = Recorder(opts.run_dir)
            recorder.write_meta(
                {
                    "started": time.time(),
                    "app": opts.app_name,
                    "app_root": opts.app_root,
                    "user_code": [
                        {"prefix": p.prefix, "name": p.name}
                        for p in frame_filter.places
                        if p.kind == "user"
                    ],
                    "loop": f"{type(loop).__module__}.{type(loop).__name__}",
                    "python": platform.python_version(),
                    "probe": asdict(opts),
                }
            )
            sinks.append(recorder)
        if opts.metrics_path is not None:
            sinks.append(
                MetricsSink(
                    instruments(), stall_locations=opts.stall_locations, worker=worker_label()
                )
            )
        if self._meter is not None:
            self.otel = OtelProbe(
                self._meter, worker=worker_label(), stall_locations=opts.stall_locations
            )
            sinks.append(self.otel)
        self.heartbeat = Heartbeat(interval_s=opts.interval_ms / 1000.0)
        self.heartbeat.start()
        self.watchdog = Watchdog(
            self.heartbeat,
            sinks[0] if len(sinks) == 1 else Tee(*sinks),
            loop_thread_id=threading.get_ident(),
            loop_native_id=threading.get_native_id(),
            threshold_s=opts.stall_threshold_ms / 1000.0,
            sample_s=opts.sample_ms / 1000.0,
            frame_filter=frame_filter,
            endpoints=self.endpoints,
        )
        self.watchdog.start()
        if recorder is not None:
            self.gauges = GaugeSampler(
                recorder.dir / rundir.GAUGES,
                interval_s=opts.gauge_interval_ms / 1000.0,
                frame_filter=frame_filter,
                endpoints=self.endpoints,
            )
            self.gauges.start()
            self.gc = GcLog(
                recorder.dir / rundir.GC, loop_thread_id=threading.get_ident(),
                frame_filter=frame_filter, site_after_ms=opts.stall_threshold_ms,
            )  # fmt: skip
            self.gc.start()
        counters: list[Callable[[str, str], None]] = []
        if opts.metrics_path is not None:
            counters.append(_count_unhandled)
        if self.otel is not None:
            counters.append(self.otel.count_unhandled)
        if recorder is not None or counters:
            self.unhandled = UnhandledLog(
                recorder.dir / rundir.EXCEPTIONS if recorder is not None else None,
                frame_filter,
                on_kind=_each(counters) if counters else None,
                endpoints=self.endpoints,
            )
        publishers: list[Publisher] = []
        if opts.metrics_path is not None:
            publishers.append(PromGauges(
                instruments(), worker=worker_label(),
                stall_threshold_s=opts.stall_threshold_ms / 1000.0,
                flush=self.requests.flush if self.requests is not None else None,
            ))  # fmt: skip
        on_stop = [self.requests.flush] if self.requests is not None else []
        pauses: list[PauseRecorder] = []
        if opts.metrics_path is not None:
            pauses.append(PromPauses(instruments(), worker=worker_label()))
        if self.otel is not None:
            pauses.append(self.otel)
        if pauses:
            gc_pauses = GcPauses(pauses, loop_thread_id=threading.get_ident())
            publishers.append(gc_pauses)
            on_stop.append(gc_pauses.close)
        if self.otel is not None:
            publishers.append(self.otel)
        if publishers:
            self.metric_gauges = GaugeLoop(publishers, on_stop=on_stop)
            self.metric_gauges.start()
        if opts.profile and opts.run_dir is not None:
            self._profile_task = loop.create_task(
                profile_when_asked(Path(opts.run_dir), pid=os.getpid())
            )
        atexit.register(self.stop)

    def stop(self) -> None:
        if self._profile_task is not None:
            self._profile_task.cancel()
            self._profile_task = None
        # Watchdog first: a heartbeat that stops beating would look like a stall.
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        if self.heartbeat is not None:
            self.heartbeat.stop()
            self.heartbeat = None
        if self.gauges is not None:
            self.gauges.stop()
            self.gauges = None
        if self.gc is not None:
            self.gc.stop()
            self.gc = None
        if self.unhandled is not None:
            self.unhandled.write()
        if self.metric_gauges is not None:
            self.metric_gauges.stop()
            self.metric_gauges = None
        if self.options.private_files and self.options.run_dir is not None:
            shutil.rmtree(self.options.run_dir, ignore_errors=True)


def _each(counters: list[Callable[[str, str], None]]) -> Callable[[str, str], None]:
    """One ``on_kind`` that calls every backend's."""
    if len(counters) == 1:
        return counters[0]

    def count(kind: str, site: str) -> None:
        for counter in counters:
            counter(kind, site)

    return count


def _count_unhandled(kind: str, site: str) -> None:
    """One exception that escaped the app, in the metrics (its site, or "unknown")."""
    labels = (worker_label(), kind, site or metric_names.UNKNOWN)
    instruments().unhandled.labels(*labels).inc()


class InstrumentedApp:
    """Serves ``app`` unchanged and runs the probe in the worker that serves it.

    With ``options.metrics_path`` it also answers scrapes there, and with metrics or
    OpenTelemetry it counts and times every other HTTP request (``http_metrics``).
    """

    def __init__(
        self,
        app: ASGIApp,
        options: ProbeOptions | None,
        *,
        threadpool: int | None = None,
        injector: Injector | None = None,
        meter_provider: Any = None,
        probe_token: str | None = None,
    ) -> None:
        self.app = app
        self.probe_token = probe_token
        self._probe = (
            _Probe(app, options, meter_provider=meter_provider) if options is not None else None
        )
        self._threadpool = threadpool
        self.injector = injector
        self._started = False
        self.metrics_path = options.metrics_path if options is not None else None
        self._setup_error: MetricsSetupError | None = None
        if self.metrics_path is not None and self._probe is not None:
            self._setup_error = exposition.check_setup(self.metrics_path)

    def _start_once(self) -> None:
        if self._started:
            return
        if self._setup_error is not None:
            raise self._setup_error
        self._started = True
        if self._threadpool is not None:
            # The limiter FastAPI/Starlette use for sync endpoints and dependencies.
            anyio.to_thread.current_default_thread_limiter().total_tokens = self._threadpool
        if self._probe is not None:
            self._probe.start()
        if self.injector is not None:
            self.injector.start()
            atexit.register(self.injector.stop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        self._start_once()  # servers that run without lifespan
        if self.injector is not None and scope.get("path") == INJECT_PATH:
            await admin.handle(self.injector, scope, receive, send)
            return
        if self.probe_token is not None and scope.get("path") == rundir.PROBE_PATH:
            options = self._probe.options if self._probe is not None else None
            if options is not None and options.run_dir is not None:
                await feed.handle(self.probe_token, Path(options.run_dir), scope, receive, send)
                return
        probe = self._probe
        if scope["type"] != "http" or probe is None or not probe.measures_requests:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:  # on its way to the server: noted, not handled
                if probe is not None and probe.unhandled is not None:
                    probe.unhandled.note(exc, scope)
                raise
            return
        if scope["path"] == self.metrics_path:
            if probe.requests is not None:
                probe.requests.flush()  # this worker's counts are current; others' within 1 s
            await exposition.serve(scope, send)
            return
        # Inline, not a helper coroutine: this runs for every request.
        status = 500  # an app that raises before answering: the server answers 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception as exc:
            if probe.unhandled is not None:
                probe.unhandled.note(exc, scope)
            raise
        finally:
            probe.observe_request(scope, status, time.perf_counter() - start)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._setup_error is not None:
            # Fail the start-up through the protocol: the server logs the message and
            # exits (uvicorn stops its supervisor; gunicorn halts on a worker boot error).
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.failed", "message": str(self._setup_error)})
            return
        self._start_once()

        async def send_and_stop(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown"):
                if self.injector is not None:
                    self.injector.stop()  # every injection gone before the app shuts down
                if self._probe is not None:
                    self._probe.stop()
            await send(message)

        await self.app(scope, receive, send_and_stop)


def instrument(
    app: ASGIApp,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    metrics_path: str | None = None,
    code: Sequence[str] = (),
    app_root: str | os.PathLike[str] | None = None,
    interval_ms: float = defaults.PROBE_INTERVAL_MS,
    stall_threshold_ms: float = defaults.STALL_THRESHOLD_MS,
    inject_token: str | None = None,
    memory_cap_mb: float = defaults.MEMORY_CAP_MB,
    stall_locations: int = defaults.STALL_LOCATIONS,
    otel: bool = False,
    meter_provider: Any = None,
    probe_token: str | None = None,
) -> InstrumentedApp:
    """Wrap ``app`` so that each worker serving it watches its event loop.

    With ``run_dir``, each worker records loop lag, stalls and gauges in ``run_dir``
    (lagscope's run-directory files).  With ``metrics_path`` (the default
    ``"/metrics"`` when neither ``run_dir`` nor ``otel`` is given), the app answers
    Prometheus scrapes there on its own port: loop lag, stalls by blamed line, GC pauses,
    tasks, threadpool, DB pools, logs, RSS and HTTP RED metrics by route.  Under several
    workers (uvicorn ``--workers N``, gunicorn) set ``PROMETHEUS_MULTIPROC_DIR`` to an
    empty directory; without it the app refuses to start (MetricsSetupError).
    ``stall_locations`` bounds the stall counters' ``location`` label per worker.  With
    ``otel=True`` (``pip install 'lagscope[otel]'``) the same instruments are recorded
    into an OpenTelemetry Meter of ``meter_provider`` (default: the global one).

    Stalls are blamed on the innermost frame of the user's code: the top-level package
    of the module that calls ``instrument`` (``mysvc`` when ``mysvc/main.py`` calls it,
    wherever ``mysvc`` is installed) and the packages named in ``code``.  ``app_root``
    names a folder whose every file is the user's instead of the caller's package; a
    script run as ``__main__`` has its own folder.
    ``inject_token`` turns the fault injector on (off without it): faults are then
    switched with ``PUT /_lagscope/inject`` carrying ``Authorization: Bearer <token>``,
    shared by the workers through ``run_dir/inject.json``; ``memory_cap_mb`` bounds
    ``memory_leak``.
    ``probe_token`` lets a harness that did not start the server (``lagscope run --target
    URL --probe-token TOKEN``) collect each worker's lag, stalls, gauges and GC during its
    run from ``POST /_lagscope/probe`` (harness.probe.feed); without ``run_dir`` each
    worker then records into a temporary folder of its own, removed when it stops.
    """
    if probe_token is not None and not probe_token.strip():
        raise UsageError("probe_token is empty; give a secret, or None to turn the feed off")
    if run_dir is None and metrics_path is None and not otel:
        metrics_path = defaults.METRICS_PATH
    if metrics_path is not None and not metrics_path.startswith("/"):
        raise UsageError(f"metrics_path {metrics_path!r} must be a path starting with '/'")
    if inject_token is not None and run_dir is None:
        raise UsageError("inject_token needs run_dir (the workers share injections there)")
    caller = sys._getframe(1).f_globals
    packages = list(code)
    folders = [os.fspath(app_root)] if app_root is not None else []
    if not folders:
        package = app_package(str(caller.get("__name__", "__main__")))
        if package is not None and package != "__main__":
            packages.insert(0, package)
        else:
            file = caller.get("__file__")
            folders = [os.path.dirname(os.path.abspath(file)) if file else os.getcwd()]
    options = ProbeOptions(
        run_dir=None if run_dir is None else str(run_dir),
        metrics_path=metrics_path,
        otel=otel,
        stall_locations=stall_locations,
        user_code=tuple(packages),
        app_root=folders[0] if folders else None,
        interval_ms=interval_ms,
        stall_threshold_ms=stall_threshold_ms,
        app_name=getattr(app, "title", "") or type(app).__name__,
        private_files=probe_token is not None and run_dir is None,
    )
    injector = None
    if inject_token is not None and run_dir is not None:
        injector = Injector(
            token=inject_token,
            state_file=Path(run_dir) / rundir.INJECT,
            run_dir=Path(run_dir),
            memory_cap_mb=memory_cap_mb,
        )
    return InstrumentedApp(
        app, options, injector=injector, meter_provider=meter_provider, probe_token=probe_token
    )
