"""The ASGI wrapper that starts the probe inside a worker, via the lifespan protocol."""

from __future__ import annotations

import asyncio
import atexit
import os
import platform
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import anyio.to_thread
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.gauges import GaugeSampler
from lagscope.harness.probe.gcpauses import GcLog
from lagscope.harness.probe.heartbeat import Heartbeat
from lagscope.harness.probe.inject import admin
from lagscope.harness.probe.inject.injector import Injector
from lagscope.harness.probe.profiler import profile_when_asked
from lagscope.harness.probe.recorder import Recorder
from lagscope.harness.probe.routes import endpoint_names
from lagscope.harness.probe.user_code import app_package
from lagscope.harness.probe.watchdog import Watchdog

from lagscope import defaults, rundir

INJECT_PATH = rundir.INJECT_PATH
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ProbeOptions:
    """How the probe measures; the defaults are the CLI's."""

    run_dir: str
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


class _Probe:
    """Heartbeat + watchdog + recorder of one worker, started on its running loop."""

    def __init__(self, app: ASGIApp, options: ProbeOptions) -> None:
        self.app = app
        self.options = options
        self.watchdog: Watchdog | None = None
        self.heartbeat: Heartbeat | None = None
        self.gauges: GaugeSampler | None = None
        self.gc: GcLog | None = None
        self._endpoints: Mapping[CodeType, str] | None = None
        self._profile_task: asyncio.Task[None] | None = None

    def endpoints(self) -> Mapping[CodeType, str]:
        if self._endpoints is None:
            self._endpoints = endpoint_names(self.app)
        return self._endpoints

    def start(self) -> None:
        opts = self.options
        loop = asyncio.get_running_loop()
        recorder = Recorder(opts.run_dir)
        folders = [opts.app_root] if opts.app_root else []
        if not folders and not opts.user_code:
            folders = [os.getcwd()]
        frame_filter = FrameFilter.build(packages=opts.user_code, folders=folders)
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
        self.heartbeat = Heartbeat(interval_s=opts.interval_ms / 1000.0)
        self.heartbeat.start()
        self.watchdog = Watchdog(
            self.heartbeat,
            recorder,
            loop_thread_id=threading.get_ident(),
            loop_native_id=threading.get_native_id(),
            threshold_s=opts.stall_threshold_ms / 1000.0,
            sample_s=opts.sample_ms / 1000.0,
            frame_filter=frame_filter,
            endpoints=self.endpoints,
        )
        self.watchdog.start()
        self.gauges = GaugeSampler(
            recorder.dir / rundir.GAUGES,
            interval_s=opts.gauge_interval_ms / 1000.0,
            frame_filter=frame_filter,
            endpoints=self.endpoints,
        )
        self.gauges.start()
        self.gc = GcLog(recorder.dir / rundir.GC, loop_thread_id=threading.get_ident())
        self.gc.start()
        if opts.profile:
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


class InstrumentedApp:
    """Serves ``app`` unchanged and runs the probe in the worker that serves it."""

    def __init__(
        self,
        app: ASGIApp,
        options: ProbeOptions | None,
        *,
        threadpool: int | None = None,
        injector: Injector | None = None,
    ) -> None:
        self.app = app
        self._probe = _Probe(app, options) if options is not None else None
        self._threadpool = threadpool
        self.injector = injector
        self._started = False

    def _start_once(self) -> None:
        if self._started:
            return
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
        if scope["type"] != "lifespan":
            self._start_once()  # servers that run without lifespan
            if self.injector is not None and scope.get("path") == INJECT_PATH:
                await admin.handle(self.injector, scope, receive, send)
                return
            await self.app(scope, receive, send)
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
    run_dir: str | os.PathLike[str],
    code: Sequence[str] = (),
    app_root: str | os.PathLike[str] | None = None,
    interval_ms: float = defaults.PROBE_INTERVAL_MS,
    stall_threshold_ms: float = defaults.STALL_THRESHOLD_MS,
    inject_token: str | None = None,
    memory_cap_mb: float = defaults.MEMORY_CAP_MB,
) -> InstrumentedApp:
    """Wrap ``app`` so that each worker serving it records loop lag and stalls in ``run_dir``.

    Stalls are blamed on the innermost frame of the user's code: the top-level package
    of the module that calls ``instrument`` (``mysvc`` when ``mysvc/main.py`` calls it,
    wherever ``mysvc`` is installed) and the packages named in ``code``.  ``app_root``
    names a folder whose every file is the user's instead of the caller's package; a
    script run as ``__main__`` has its own folder.
    ``inject_token`` turns the fault injector on (off without it): faults are then
    switched with ``PUT /_lagscope/inject`` carrying ``Authorization: Bearer <token>``,
    shared by the workers through ``run_dir/inject.json``; ``memory_cap_mb`` bounds
    ``memory_leak``.
    """
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
        run_dir=str(run_dir),
        user_code=tuple(packages),
        app_root=folders[0] if folders else None,
        interval_ms=interval_ms,
        stall_threshold_ms=stall_threshold_ms,
        app_name=getattr(app, "title", "") or type(app).__name__,
    )
    injector = None
    if inject_token is not None:
        injector = Injector(
            token=inject_token,
            state_file=Path(run_dir) / rundir.INJECT,
            run_dir=Path(run_dir),
            memory_cap_mb=memory_cap_mb,
        )
    return InstrumentedApp(app, options, injector=injector)
