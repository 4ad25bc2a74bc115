"""What lagscope adds to each request inside Locust, in microseconds, measured in-process.

End-to-end throughput on a shared machine swings by more than the few microseconds this
is about; these figures are CPU on one core, the best of five repeats:

- the recorder's ``request`` listener (one row of ``requests.parquet``), closed model;
- the same with an open-model slot (rate mode);
- the loopback guard's check on each request's URL;
- and, for scale, Locust's own statistics listener, which plain Locust runs too.

    .venv/bin/python benchmarks/generator_hot_path.py
"""

from __future__ import annotations

import os
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import locust  # noqa: F401  (gevent's monkey-patching, as in Locust's process)
from lagscope.harness.loadgen import loopback_guard, recorder, send_slots
from locust import events
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

N = 100_000


def per_call_us(fn: Callable[[], Any], n: int = N) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


class _Response:
    status_code = 200
    text = '{"ok":true}'


def main() -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="hot-path-"))
    before = list(events.request._handlers)
    recorder.install(run_dir)
    (listener,) = [h for h in events.request._handlers if h not in before]
    row = {"request_type": "GET", "name": "/", "response_time": 1.234,
           "response_length": 11, "response": _Response(), "context": {}, "exception": None,
           "start_time": time.time(), "url": "http://127.0.0.1:8000/"}  # fmt: skip
    print(f"recorder listener, closed model:   {per_call_us(lambda: listener(**row)):6.2f} µs")
    send_slots.begin(time.time())
    print(f"recorder listener, open model:     {per_call_us(lambda: listener(**row)):6.2f} µs")
    send_slots.end()

    sent: list[str] = []

    class Session(FastHttpSession):
        def __init__(self) -> None:
            self.base_url = "http://127.0.0.1:8000"

    # The guard wraps the clients' request method; time it over a request that does nothing.
    FastHttpSession.request = lambda self, method, url, *a, **k: sent.append(url)  # type: ignore[method-assign]
    loopback_guard.install(run_dir)
    session = Session()
    guarded = per_call_us(lambda: session.request("GET", "/"))
    print(f"loopback guard, relative URL:      {guarded:6.2f} µs")
    env = Environment(events=events)
    env.create_local_runner()
    stats = [h for h in events.request._handlers if h not in before and h is not listener]
    print(f"Locust's statistics listener:      {per_call_us(lambda: stats[0](**row)):6.2f} µs")
    print(f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
