"""Runs inside the Locust process: records every request, raw, into parquet parts.

Locust's own statistics round response times into buckets; lagscope keeps each
request's exact float milliseconds instead, through Locust's ``request`` event.
In rate mode (lagscope.harness.loadgen.open_model) a request's latency counts from its intended send
time, and the row keeps the uncorrected figure beside it.
A sample of 4xx bodies goes to ``error-bodies.jsonl`` (lagscope.harness.loadgen.error_bodies).
Rows are spooled every second to ``spool/requests-<pid>-<n>.parquet`` so that a
crash loses at most a second; the harness merges the parts into ``requests.parquet``.
A part that cannot be written (a full disk) leaves no file behind and its rows stay in
the buffer for the next flush, so space freed later (the harness releases its reserve as
the run ends) still gets them.
On a remote load worker (lagscope.harness.loadgen.distributed) each second's rows and
every event are shipped to the master instead (``Ship``), which writes them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import pyarrow as pa
import pyarrow.parquet as pq
from lagscope.harness.loadgen import send_slots
from lagscope.harness.loadgen.error_bodies import ErrorBodies
from locust import events
from locust.env import Environment

from lagscope import rundir, runfiles
from lagscope.errors import RunDirError
from lagscope.request_schema import SCHEMA

FLUSH_EVERY_S = 1.0
FINAL_TRIES = 5  # flushes tried as Locust quits, FINAL_RETRY_S apart
FINAL_RETRY_S = 0.2
Rows = dict[str, list[Any]]  # a batch of request rows, column by column (SCHEMA's names)
Ship = Callable[[Rows], None]  # sends a batch elsewhere instead of writing a part
EventSink = Callable[[str, dict[str, Any]], None]  # (event, detail) elsewhere
_event_sink: list[EventSink] = []  # set once on a remote load worker


class RequestSpool:
    """Buffers request rows and writes them as numbered parquet parts."""

    def __init__(self, run_dir: Path, *, ship: Ship | None = None) -> None:
        self.ship = ship
        self.dir = run_dir / rundir.SPOOL
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rows: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        self.parts = 0
        self.write_failures = 0
        # pyarrow's first parquet write initialises for ~0.2 s; do it now, not mid-run
        # (it would hold up every greenlet, and with them the open model's sends).
        pq.write_table(SCHEMA.empty_table(), io.BytesIO())

    @property
    def pid(self) -> int:
        # Read each time: with --processes Locust forks its workers after this module
        # installed the spool, and each worker must name its own parts.
        return os.getpid()

    def add(self, **row: Any) -> None:
        for key, column in self.rows.items():
            column.append(row[key])

    def flush(self, *, off_loop: bool = False) -> bool:
        """Write the buffered rows as the next part; ``off_loop`` writes in a native thread
        so that the greenlets sending requests are not held up meanwhile.  Return False
        when the part could not be written (its rows are kept for the next flush)."""
        if not self.rows["t"]:
            return True
        rows, self.rows = self.rows, {name: [] for name in SCHEMA.names}
        if self.ship is not None:
            self.ship(rows)  # from a greenlet: the master's socket is gevent's
            return True
        self.parts += 1
        final = self.dir / rundir.request_part(self.pid, self.parts)
        if off_loop:
            error = gevent.get_hub().threadpool.apply(_try_write_part, (rows, final))
        else:
            error = _try_write_part(rows, final)
        if error is None:
            return True
        self.parts -= 1
        for name, column in rows.items():  # ahead of the rows added meanwhile
            self.rows[name][:0] = column
        if not self.write_failures:  # to locust.log, if that can still be written
            with contextlib.suppress(OSError):
                sys.stderr.write(f"lagscope: writing {final} failed ({error}); rows kept\n")
        self.write_failures += 1
        return False


def write_part(rows: Rows, final: Path) -> None:
    """Write one part whole (a temporary file renamed) or not at all (OSError)."""
    tmp = final.with_suffix(".tmp")
    try:
        pq.write_table(pa.table(rows, schema=SCHEMA), tmp)
        tmp.replace(final)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _try_write_part(rows: Rows, final: Path) -> OSError | None:
    """``write_part``, returning its error instead (from gevent's threadpool)."""
    try:
        write_part(rows, final)
    except OSError as exc:
        return exc
    return None


def log_event(run_dir: Path, event: str, **detail: Any) -> None:
    """Append one load-generator event to the run's ``events.jsonl`` (on a remote load
    worker: send it to the master, which appends it).  A full disk loses the event, never
    the test: the harness watches the space and says so."""
    if _event_sink:
        _event_sink[0](event, detail)
        return
    with contextlib.suppress(RunDirError):
        runfiles.log_event(run_dir, event, source="load", **detail)


def send_events_to(sink: EventSink) -> None:
    """From now on ``log_event`` hands every event to ``sink`` (a remote load worker)."""
    _event_sink[:] = [sink]


def install(run_dir: Path, *, ship: Ship | None = None) -> None:
    """Hook the spool into Locust's events; ``ship``: batches go there, not to parts."""
    spool = RequestSpool(run_dir, ship=ship)
    bodies = ErrorBodies(run_dir)

    @events.request.add_listener
    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        response: Any = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        status = getattr(response, "status_code", 0) or 0
        sent = start_time if start_time is not None else time.time() - response_time / 1000
        slot = send_slots.slot_of(sent)
        intended, lag_s = slot if slot is not None else (None, None)
        spool.add(
            t=sent,
            latency_ms=float(response_time) + (lag_s or 0.0) * 1000,
            uncorrected_ms=float(response_time) if slot is not None else None,
            intended_t=intended,
            send_lag_ms=lag_s * 1000 if lag_s is not None else None,
            method=request_type,
            name=name,
            status=int(status),
            ok=exception is None,
            bytes=int(response_length or 0),
            error=None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
            pid=spool.pid,
            load_worker=None,  # a remote worker's rows are labelled by the master
        )
        bodies.add(sent, request_type, name, int(status), response)

    def flusher() -> None:
        while True:
            gevent.sleep(FLUSH_EVERY_S)
            spool.flush(off_loop=True)

    @events.test_start.add_listener
    def on_test_start(environment: Environment, **_: Any) -> None:
        if _runs_users(environment):
            gevent.spawn(flusher)
        log_event(
            run_dir,
            "load_start",
            users=environment.parsed_options.num_users if environment.parsed_options else None,
        )

    @events.spawning_complete.add_listener
    def on_spawned(user_count: int, **_: Any) -> None:
        log_event(run_dir, "spawning_complete", users=user_count)

    @events.test_stop.add_listener
    def on_test_stop(environment: Environment, **_: Any) -> None:
        spool.flush()
        log_event(run_dir, "load_stop")

    @events.quitting.add_listener
    def on_quitting(environment: Environment, **_: Any) -> None:
        # The last chance for rows a full disk held back: the harness frees its reserve
        # before it stops the load, so space may have come back.
        for _attempt in range(FINAL_TRIES):
            if spool.flush():
                break
            time.sleep(FINAL_RETRY_S)


def _runs_users(environment: Environment) -> bool:
    from locust.runners import MasterRunner

    return not isinstance(environment.runner, MasterRunner)
