"""Remote load workers on Locust's distributed runner (``--load-workers``, ``lagscope loadgen``).

The harness starts a Locust master (``--master --expect-workers N``) on a locustfile it
writes for the run (the scenario's source and the run's options inside); each
``lagscope loadgen --master HOST:PORT`` is a Locust worker started with ``-f -``, so
the master sends it that file.  Both import ``setup`` below.  Locust spreads the users
(or, in rate mode, one dispatcher per worker) and lagscope adds, with custom messages:

    worker → master  lagscope_records  each second's raw request rows (batched)
    worker → master  lagscope_event    the load generator's events (plan start/end, ...)
    master → worker  lagscope_ping     every PING_S; the worker answers lagscope_pong with
                                       its clock, so the master estimates each worker's
                                       clock offset (the reply with the shortest round
                                       trip wins; uncertainty ± half of it, as NTP does);
                                       until it is within CLOCK_GOOD_S, a pong is answered
                                       by the next ping at once (up to BURST pings), and
                                       in rate mode the plan waits for it (CLOCK_WAIT_S)

The master writes the rows as spool parts with a ``load_worker`` column and every time
(``t``, ``intended_t``, events' ``t``) moved onto its own clock, and reports a worker
that Locust marks missing (``load_worker_lost``) with the rows it sent until then.
A worker quits when the master's heartbeats stop for MASTER_SILENCE_S.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from lagscope.harness.loadgen import loopback_guard, open_model, recorder
from locust import User, events
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from lagscope import arrivals, clocks, rundir, runfiles
from lagscope.errors import RunDirError

PING_S = 0.5
CLOCK_GOOD_S = 0.001  # ± this is good enough to start a plan on (a tenth of a 100 req/s slot)
BURST = 100  # quick pings per worker at most while its estimate is worse than that
CLOCK_WAIT_S = 3.0  # how long the plan's start waits for every worker's good estimate
MASTER_SILENCE_S = 4  # Locust's own default is 60 s: a loadgen would outlive a dead master
RECORDS, EVENT, PING, PONG = "lagscope_records", "lagscope_event", "lagscope_ping", "lagscope_pong"


def worker_name() -> str:
    return os.environ.get(rundir.ENV_LOADGEN_NAME) or f"{socket.gethostname()}:{os.getpid()}"


def scenario_classes(source: str, name: str) -> list[type[User]]:
    """The User classes the scenario's ``source`` defines (its module: lagscope_scenario)."""
    module = types.ModuleType("lagscope_scenario")
    module.__file__ = f"<scenario {name}>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return [
        value for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, User)
        and value.__module__ == module.__name__ and not value.abstract
    ]  # fmt: skip


def setup(source: str, config: dict[str, Any], *, path: str | None = None) -> dict[str, type[User]]:
    """What the generated locustfile puts in its namespace: the scenario's User classes,
    or the open model's dispatcher; hooks the master or the worker side in.  ``path``: the
    locustfile itself (a worker removes the copy Locust saved for it when it exits)."""
    classes = scenario_classes(source, str(config["scenario"]))
    plan = arrivals.PlanOptions.from_env({arrivals.ENV_OPTIONS: config["open_model"]}) if (
        config.get("open_model")) else None  # fmt: skip
    run_dir_env = os.environ.get(rundir.ENV_RUN_DIR)
    if run_dir_env is not None:  # the harness started us: the master
        run_dir = Path(run_dir_env)
        hub = Master(run_dir)
        events.init.add_listener(hub.on_init)  # type: ignore[no-untyped-call]
        recorder.install(run_dir)  # the load's start and stop events; no users run here
        coordinate = open_model.coordinate(
            plan, offsets=hub.offsets, lost=hub.lost_count,
            clocks_ready=(hub.clocks_good, CLOCK_WAIT_S),
        ) if plan is not None else None  # fmt: skip
    else:
        # Error bodies stay here; named by pid, so that whoever kill -9s a loadgen can tidy.
        run_dir = Path(tempfile.mkdtemp(prefix=f"lagscope-loadgen-{os.getpid()}-"))
        atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
        if path is not None:
            atexit.register(_remove, Path(path))
        link = WorkerLink(worker_name())
        events.init.add_listener(link.on_init)  # type: ignore[no-untyped-call]
        recorder.install(run_dir, ship=link.ship)
        recorder.send_events_to(link.event)
        locust.runners.MASTER_HEARTBEAT_TIMEOUT = MASTER_SILENCE_S
        coordinate = open_model.coordinate(plan) if plan is not None else None
    if not config.get("allow_remote"):
        loopback_guard.install(run_dir)
    if plan is None or coordinate is None:
        return {cls.__name__: cls for cls in classes}
    events.init.add_listener(coordinate)  # type: ignore[no-untyped-call]
    return {"LagscopeArrivals": open_model.dispatcher_class(classes, plan, run_dir=run_dir)}


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)  # another worker on this host may have removed it first


class WorkerLink:
    """A worker's side: rows and events to the master, pongs to its pings."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.runner: WorkerRunner | None = None

    def on_init(self, environment: Any, **_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            self.runner = environment.runner
            self.runner.register_message(PING, self._pong)

    def _pong(self, environment: Any, msg: Any, **_: Any) -> None:
        assert self.runner is not None
        data = {"sent": msg.data["sent"], "clock": time.time(), "worker": self.name}
        self.runner.send_message(PONG, data)

    def ship(self, rows: recorder.Rows) -> None:
        if self.runner is not None:
            self.runner.send_message(RECORDS, {"worker": self.name, "rows": rows})

    def event(self, event: str, detail: dict[str, Any]) -> None:
        if self.runner is not None:
            data = {"worker": self.name, "event": event, "t": time.time(), "detail": detail}
            self.runner.send_message(EVENT, data)


class Master:
    """The master's side: each worker's name, clock offset, rows written and fate."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.spool = run_dir / rundir.SPOOL
        self.names: dict[str, str] = {}  # Locust client id -> worker name
        self.clock: dict[str, clocks.Offset] = {}  # id -> the worker's clock minus ours
        self.records: dict[str, int] = {}
        self.pings: dict[str, int] = {}
        self.heard: dict[str, float] = {}  # id -> when its last message arrived (our clock)
        self.lost: set[str] = set()
        self.parts = 0
        self.runner: MasterRunner | None = None

    def offsets(self) -> dict[str, float]:
        return {client: clock.offset_s for client, clock in self.clock.items()}

    def lost_count(self) -> int:
        return len(self.lost)

    def clocks_good(self) -> bool:
        """Every connected worker's offset is known within CLOCK_GOOD_S (or stopped improving)."""
        runner = self.runner
        clients = list(runner.clients) if runner is not None else []
        return all(
            client in self.clock
            and (self.clock[client].uncertainty_s <= CLOCK_GOOD_S or self.pings[client] >= BURST)
            for client in clients
        )

    def on_init(self, environment: Any, **_: Any) -> None:
        if not isinstance(environment.runner, MasterRunner):
            return
        self.runner = runner = environment.runner
        runner.register_message(PONG, self._on_pong)
        runner.register_message(RECORDS, self._on_records)
        runner.register_message(EVENT, self._on_event)
        environment.events.test_stop.add_listener(lambda **_: self._log_clocks())
        gevent.spawn(self._ping_and_watch)

    def _ping_and_watch(self) -> None:
        runner = self.runner
        assert runner is not None
        while True:
            for client_id, client in list(runner.clients.items()):
                if client.state == STATE_MISSING:
                    self._lost(client_id)
                else:
                    runner.send_message(PING, {"sent": time.time()}, client_id=client_id)
            gevent.sleep(PING_S)

    def _on_pong(self, environment: Any, msg: Any, **_: Any) -> None:
        now = self.heard[msg.node_id] = time.time()
        sent, client = float(msg.data["sent"]), msg.node_id
        measured = clocks.from_round_trip(sent, float(msg.data["clock"]), now)
        self.names.setdefault(client, str(msg.data["worker"]))
        if client not in self.clock:  # its first answer
            self._log("load_worker_joined", client, offset_ms=measured.offset_s * 1000)
        self.clock[client] = clocks.better(self.clock.get(client), measured)
        self.pings[client] = self.pings.get(client, 0) + 1
        if self.clock[client].uncertainty_s > CLOCK_GOOD_S and self.pings[client] < BURST:
            assert self.runner is not None
            self.runner.send_message(PING, {"sent": time.time()}, client_id=client)

    def _on_records(self, environment: Any, msg: Any, **_: Any) -> None:
        client, rows = msg.node_id, msg.data["rows"]
        self.heard[client] = time.time()
        self.names.setdefault(client, str(msg.data["worker"]))
        shift_rows(rows, self._offset(client))
        rows["load_worker"] = [self.names[client]] * len(rows["t"])
        self.spool.mkdir(parents=True, exist_ok=True)
        self.parts += 1
        recorder.write_part(rows, self.spool / rundir.request_part(os.getpid(), self.parts))
        self.records[client] = self.records.get(client, 0) + len(rows["t"])

    def _on_event(self, environment: Any, msg: Any, **_: Any) -> None:
        client, data = msg.node_id, msg.data
        self.names.setdefault(client, str(data["worker"]))
        offset = self._offset(client)
        detail = dict(data["detail"])
        if isinstance(detail.get("start"), float):  # the plan's start, on the worker's clock
            detail["start"] -= offset
        line = {"t": float(data["t"]) - offset, "source": "load", "event": data["event"],
                **detail, "load_worker": self.names[client]}  # fmt: skip
        with contextlib.suppress(RunDirError):  # a full disk: the harness says so
            runfiles.append_event_lines(self.dir, json.dumps(line) + "\n")

    def _offset(self, client: str) -> float:
        clock = self.clock.get(client)
        return clock.offset_s if clock is not None else 0.0

    def _lost(self, client: str) -> None:
        if client in self.lost:
            return
        self.lost.add(client)
        self._log("load_worker_lost", client, records=self.records.get(client, 0),
                  last_heard=self.heard.get(client))  # fmt: skip

    def _log_clocks(self) -> None:
        for client, clock in self.clock.items():
            self._log("load_worker_clock", client, offset_ms=round(clock.offset_s * 1000, 3),
                      uncertainty_ms=round(clock.uncertainty_s * 1000, 3))  # fmt: skip

    def _log(self, event: str, client: str, **detail: Any) -> None:
        runner = self.runner
        index = None if runner is None else runner.get_worker_index(client)  # type: ignore[no-untyped-call]
        runfiles.log_event(self.dir, event, source="load", load_worker=self.names.get(client),
                           index=index, **detail)  # fmt: skip


def shift_rows(rows: recorder.Rows, offset: float) -> None:
    """Move a worker's times onto the master's clock (in place)."""
    for column in ("t", "intended_t"):
        rows[column] = [None if v is None else v - offset for v in rows[column]]
