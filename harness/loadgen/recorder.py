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
import gevent.lock
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
# The columns a row appends to, in order; ``pid`` and ``load_worker`` (null here: a remote
# worker's rows are labelled by the master) are one value per batch, filled at flush.
ROW_COLUMNS = (
    "t", "latency_ms", "method", "name", "status", "ok", "bytes", "error",
    "intended_t", "uncorrected_ms", "send_lag_ms",
)  # fmt: skip
assert set(ROW_COLUMNS) | {"pid", "load_worker"} == set(SCHEMA.names)


class RequestSpool:
    """Buffers request rows column by column and writes them as numbered parquet parts.

    The column lists live as long as the spool (a flush copies and clears them), so the
    ``request`` listener appends through bound methods taken once: no dict per row.
    """

    def __init__(self, run_dir: Path, *, ship: Ship | None = None) -> None:
        self.ship = ship
        self.dir = run_dir / rundir.SPOOL
        self.dir.mkdir(parents=True, exist_ok=True)
        self.columns: tuple[list[Any], ...] = tuple([] for _ in ROW_COLUMNS)
        self.parts = 0
        self.write_failures = 0
        # Held while a part is written: the last flush (test stop, quitting) waits for a part
        # still in the threadpool, else the process could exit with it half-written.
        self._writing = gevent.lock.Semaphore()
        # pyarrow's first parquet write initialises for ~0.2 s; do it now, not mid-run
        # (it would hold up every greenlet, and with them the open model's sends).
        pq.write_table(SCHEMA.empty_table(), io.BytesIO())

    @property
    def pid(self) -> int:
        # Read at each flush: with --processes Locust forks its workers after this module
        # installed the spool, and each worker must name its own parts (and rows).
        return os.getpid()

    def flush(self, *, off_loop: bool = False) -> bool:
        """Write the buffered rows as the next part; ``off_loop`` writes in a native thread
        so that the greenlets sending requests are not held up meanwhile.  Returns once
        every part flushed so far is written: False when this one could not be (its rows
        are kept for the next flush)."""
        with self._writing:
            if not self.columns[0]:
                return True
            # Copied and cleared with no greenlet switch in between: no row lost or doubled.
            pairs = zip(ROW_COLUMNS, self.columns, strict=True)
            rows: Rows = {name: column.copy() for name, column in pairs}
            for column in self.columns:
                column.clear()
            n = len(rows["t"])
            rows["pid"] = [self.pid] * n
            rows["load_worker"] = [None] * n
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
            for name, column in zip(ROW_COLUMNS, self.columns, strict=True):
                column[:0] = rows[name]  # ahead of the rows added meanwhile, in place
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

    # Everything a row needs, bound once: this listener runs for every request.
    appends = [column.append for column in spool.columns]
    (add_t, add_latency, add_method, add_name, add_status, add_ok, add_bytes, add_error,
     add_intended, add_uncorrected, add_lag) = appends  # fmt: skip
    slot_of = send_slots.slot_of
    now = time.time
    add_body = bodies.add

    @events.request.add_listener
    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        response: Any = None,
        start_time: float | None = None,
        context: Any = None,
        url: Any = None,
        **_: Any,
    ) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        sent = start_time if start_time is not None else now() - response_time / 1000
        response_ms = float(response_time)
        slot = slot_of(sent)
        add_t(sent)
        add_method(request_type)
        add_name(name)
        add_status(status)
        add_bytes(int(response_length or 0))
        if exception is None:
            add_ok(True)
            add_error(None)
        else:
            add_ok(False)
            add_error(f"{type(exception).__name__}: {exception}"[:300])
        if slot is None:
            add_latency(response_ms)
            add_intended(None)
            add_uncorrected(None)
            add_lag(None)
        else:
            intended, lag_s = slot
            add_latency(response_ms + lag_s * 1000)
            add_intended(intended)
            add_uncorrected(response_ms)
            add_lag(lag_s * 1000)
        if 400 <= status < 500:  # ErrorBodies keeps a sample of 4xx bodies only
            add_body(sent, request_type, name, status, response)

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
