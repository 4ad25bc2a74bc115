"""Every request Locust reports becomes one exact row of a spool part, in either model.

The recorder runs inside Locust's gevent-patched process; importing it here would patch
the test process, so each case runs in a child Python that fires Locust's ``request``
event through the installed listener and flushes the spool.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lagscope import rundir

Columns = dict[str, list[Any]]

FIRE = textwrap.dedent(
    """
    import sys, gevent
    from pathlib import Path
    from locust.event import Events
    from lagscope.harness.loadgen import recorder, send_slots

    class Response:
        def __init__(self, status, text=""):
            self.status_code, self.text = status, text

    events = Events()
    recorder.events = events
    recorder.install(Path(sys.argv[1]))
    fire = events.request.fire
    def closed():
        fire(request_type="GET", name="/a", response_time=1.5, response_length=11,
             response=Response(200), context={}, exception=None, start_time=10.0, url="u")
        fire(request_type="POST", name="/b", response_time=2.25, response_length=30,
             response=Response(404, "no such thing"), context={}, exception=None,
             start_time=11.0, url="u")
        fire(request_type="GET", name="/c", response_time=0.0, response_length=0,
             response=None, context={}, exception=ConnectionError("refused"),
             start_time=12.0, url="u")
    def open_model():
        send_slots.begin(100.0)
        fire(request_type="GET", name="/d", response_time=5.0, response_length=2,
             response=Response(200), context={}, exception=None, start_time=100.03, url="u")
        fire(request_type="GET", name="/e", response_time=7.0, response_length=2,
             response=Response(503), context={}, exception=RuntimeError("x" * 400),
             start_time=100.08, url="u")
        send_slots.end()
    gevent.spawn(closed).get()
    events.quitting.fire(environment=None)  # flushes part 1
    gevent.spawn(open_model).get()
    events.quitting.fire(environment=None)  # part 2: the new rows only
    events.quitting.fire(environment=None)  # nothing buffered: no part 3
    print(__import__("os").getpid())
    """
)


@pytest.fixture
def spooled(tmp_path: Path) -> tuple[list[Columns], int]:
    done = subprocess.run(
        [sys.executable, "-c", FIRE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    pid = int(done.stdout.split()[-1])
    parts = [tmp_path / rundir.SPOOL / rundir.request_part(pid, n) for n in (1, 2, 3)]
    assert not parts[2].exists()
    return [pq.read_table(part).to_pydict() for part in parts[:2]], pid


def test_closed_model_rows_are_exact(spooled: tuple[list[Columns], int]) -> None:
    (closed, _), pid = spooled
    assert closed["t"] == [10.0, 11.0, 12.0]
    assert closed["latency_ms"] == [1.5, 2.25, 0.0]
    assert closed["method"] == ["GET", "POST", "GET"]
    assert closed["name"] == ["/a", "/b", "/c"]
    assert closed["status"] == [200, 404, 0]
    assert closed["ok"] == [True, True, False]
    assert closed["bytes"] == [11, 30, 0]
    assert closed["error"] == [None, None, "ConnectionError: refused"]
    assert closed["pid"] == [pid] * 3
    assert closed["load_worker"] == [None] * 3  # a remote worker's rows: labelled by the master
    for column in ("intended_t", "uncorrected_ms", "send_lag_ms"):
        assert closed[column] == [None] * 3


def test_open_model_rows_count_from_the_intended_time(
    spooled: tuple[list[Columns], int],
) -> None:
    (_, rated), pid = spooled
    assert rated["name"] == ["/d", "/e"]  # a flush hands on each row once
    assert rated["intended_t"] == pytest.approx([100.0, 100.05])
    assert rated["send_lag_ms"] == pytest.approx([30.0, 30.0])
    assert rated["uncorrected_ms"] == [5.0, 7.0]
    assert rated["latency_ms"] == pytest.approx([35.0, 37.0])
    assert rated["error"] == [None, "RuntimeError: " + "x" * 286]  # cut to 300
    assert rated["pid"] == [pid] * 2


def test_a_4xx_body_is_sampled(tmp_path: Path, spooled: tuple[list[Columns], int]) -> None:
    lines = (tmp_path / rundir.ERROR_BODIES).read_text().splitlines()
    assert [json.loads(line)["body"] for line in lines] == ["no such thing"]


SLOW_PART = textwrap.dedent(
    """
    import sys, time, gevent
    from pathlib import Path
    from lagscope.harness.loadgen import recorder

    write = recorder.write_part
    calls = []
    def slow(*args):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.3)  # the first part, in the threadpool's native thread
        write(*args)
    recorder.write_part = slow
    spool = recorder.RequestSpool(Path(sys.argv[1]))
    def row(t):
        for name, column in zip(recorder.ROW_COLUMNS, spool.columns):
            column.append({"t": t, "method": "GET", "name": "/", "status": 200, "ok": True,
                           "bytes": 0, "latency_ms": 1.0}.get(name))
    row(1.0)
    flusher = gevent.spawn(spool.flush, off_loop=True)
    gevent.sleep(0.05)  # part 1 is in the threadpool now
    row(2.0)
    spool.flush()  # the last flush, as at test stop
    print(sorted(p.name for p in spool.dir.iterdir()))
    """
)


def test_the_last_flush_waits_for_a_part_still_being_written(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SLOW_PART, str(tmp_path)], capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    names = done.stdout.strip()
    assert names.count(".parquet") == 2, names
    assert ".tmp" not in names


FULL_DISK = textwrap.dedent(
    """
    import sys, gevent
    from pathlib import Path
    from lagscope.harness.loadgen import recorder

    write = recorder.write_part
    calls = []
    def full_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        write(*args)
    recorder.write_part = full_once
    spool = recorder.RequestSpool(Path(sys.argv[1]))
    def row(t):
        for name, column in zip(recorder.ROW_COLUMNS, spool.columns):
            column.append({"t": t, "method": "GET", "name": "/", "status": 200, "ok": True,
                           "bytes": 0, "latency_ms": 1.0}.get(name))
    row(1.0)
    first = gevent.spawn(spool.flush, off_loop=True).get()
    row(2.0)
    second = spool.flush()
    print(first, second, spool.parts)
    """
)


def test_a_part_the_disk_refused_keeps_its_rows_for_the_next_flush(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path)], capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True", "1"]
    assert "No space left on device" in done.stderr  # said once, to locust.log
    (part,) = (tmp_path / rundir.SPOOL).iterdir()
    assert pq.read_table(part).to_pydict()["t"] == [1.0, 2.0]
