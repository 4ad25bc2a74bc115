"""Locust scenario for the cost benchmarks: FastHttpUser, no wait, one cheap request.

With ``BENCH_CPU_FILE`` set, the Locust process also writes there (JSON) the CPU seconds
it spent, the requests it sent and the wall time from the end of spawning to the end of
the test: the same window on both sides of a comparison, whatever each does around it.
CPU per request is the figure a shared machine's load disturbs least.

With ``BENCH_TRACE_FILE`` set, it appends the time, the requests sent and its CPU seconds
there every 0.2 s from the end of spawning: a benchmark running two generators at once
reads both over one window.
"""

from __future__ import annotations

import json
import os
import resource
import time
from typing import Any

from locust import FastHttpUser, constant, events, task
from locust.env import Environment


class Trivial(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self) -> None:
        self.client.get("/", name="/")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Window:
    env: Environment | None = None
    start: tuple[float, int, float] | None = None


def _requests() -> int:
    return _Window.env.stats.total.num_requests if _Window.env is not None else 0


if os.environ.get("BENCH_CPU_FILE"):

    @events.init.add_listener
    def _init(environment: Environment, **_: Any) -> None:
        _Window.env = environment

    @events.spawning_complete.add_listener
    def _spawned(user_count: int, **_: Any) -> None:
        _Window.start = (_cpu_s(), _requests(), time.perf_counter())

    @events.test_stop.add_listener
    def _stopped(environment: Environment, **_: Any) -> None:
        if _Window.start is None:
            return
        cpu0, n0, t0 = _Window.start
        figures = {
            "cpu_s": _cpu_s() - cpu0,
            "requests": _requests() - n0,
            "wall_s": time.perf_counter() - t0,
            "total": _requests(),
        }
        with open(os.environ["BENCH_CPU_FILE"], "w") as f:
            json.dump(figures, f)


if os.environ.get("BENCH_TRACE_FILE"):
    import gevent

    @events.init.add_listener
    def _init_trace(environment: Environment, **_: Any) -> None:
        _Window.env = environment

    def _trace(path: str) -> None:
        """Every 0.2 s, one line: unix time, requests sent so far, CPU seconds so far."""
        with open(path, "a") as f:
            while True:
                f.write(f"{time.time():.6f} {_requests()} {_cpu_s():.6f}\n")
                f.flush()
                gevent.sleep(0.2)

    @events.spawning_complete.add_listener
    def _spawned_trace(user_count: int, **_: Any) -> None:
        gevent.spawn(_trace, os.environ["BENCH_TRACE_FILE"])
