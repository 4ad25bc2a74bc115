"""Locust scenario for the cost benchmarks: FastHttpUser, no wait, one cheap request.

With ``BENCH_CPU_FILE`` set, the Locust process also writes there (JSON) the CPU seconds
it spent and the requests it sent from the end of spawning to the end of the test: CPU
per request is the figure a shared machine's load disturbs least.
"""

from __future__ import annotations

import json
import os
import resource
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
    start: tuple[float, int] | None = None


def _requests() -> int:
    return _Window.env.stats.total.num_requests if _Window.env is not None else 0


if os.environ.get("BENCH_CPU_FILE"):

    @events.init.add_listener
    def _init(environment: Environment, **_: Any) -> None:
        _Window.env = environment

    @events.spawning_complete.add_listener
    def _spawned(user_count: int, **_: Any) -> None:
        _Window.start = (_cpu_s(), _requests())

    @events.test_stop.add_listener
    def _stopped(environment: Environment, **_: Any) -> None:
        if _Window.start is None:
            return
        cpu0, n0 = _Window.start
        figures = {"cpu_s": _cpu_s() - cpu0, "requests": _requests() - n0, "total": _requests()}
        with open(os.environ["BENCH_CPU_FILE"], "w") as f:
            json.dump(figures, f)
