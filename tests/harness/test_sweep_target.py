"""When a sweep's next step reuses its configuration's target, and when it starts a fresh one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lagscope.harness.run import sweep_target
from lagscope.harness.run.lease import last_time, whole_lines_end
from lagscope.harness.run.sweep_plan import Point, SweepPlan
from lagscope.harness.run.sweep_target import FAULTS_REASON, PointTarget
from lagscope.reports.rate_search import SearchLimits

POINT = Point(server="uvicorn", loop="auto", threadpool=None, workers=2)


class FakeLease:
    """Stands in for the servers: its health is what the test says."""

    started: list[FakeLease] = []

    def __init__(self, config: Any, directory: Path, **_: Any) -> None:
        self.dir = directory
        directory.mkdir(parents=True)  # as the real one, which refuses one that exists
        self.workers = config.workers
        self.healthy: str | None = None
        self.stopped = False
        FakeLease.started.append(self)

    def health(self) -> str | None:
        return self.healthy

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    FakeLease.started = []
    monkeypatch.setattr(sweep_target, "Lease", FakeLease)
    monkeypatch.setattr(sweep_target, "wait_quiet", lambda lease, *, workers: 0.0)

    def make(faults: tuple[str, ...] = ()) -> PointTarget:
        app = "shop" if faults else "sizing.app:app"
        limits = SearchLimits()
        plan = SweepPlan(app=app, scenario=None, points=(POINT,), limits=limits, step_s=1.0,
                         faults=faults)  # fmt: skip
        return PointTarget(plan, POINT, tmp_path / POINT.slug)

    return make


def test_the_first_step_starts_the_target_with_the_configuration(servers: Any) -> None:
    lease, use, why = servers().acquire(first_ever=True)
    assert (use, why) == ("started", "first step of this configuration")
    assert lease.workers == 2
    assert lease.dir.name == "target-01"


def test_a_resumed_configuration_says_its_first_step_here_started_the_target(
    servers: Any,
) -> None:
    _, use, why = servers().acquire(first_ever=False)
    assert use == "started"
    assert why.endswith("run by this process (--resume)")


def test_a_healthy_target_is_reused_after_a_completed_step(servers: Any) -> None:
    point = servers()
    first, _, _ = point.acquire(first_ever=True)
    point.finished("completed")  # an SLO failure is still a completed step
    again, use, why = point.acquire(first_ever=True)
    assert again is first
    assert (use, why) == ("reused", "the previous step left it healthy")


def test_a_step_that_ended_early_restarts_the_target_and_says_how_it_ended(
    servers: Any,
) -> None:
    point = servers()
    first, _, _ = point.acquire(first_ever=True)
    point.finished("target_crashed")
    second, use, why = point.acquire(first_ever=True)
    assert (use, why) == ("restarted", "the step before ended target_crashed")
    assert first.stopped
    assert second is not first
    assert second.dir.name == "target-02"


def test_an_unhealthy_target_is_restarted_with_the_health_check_s_reason(servers: Any) -> None:
    point = servers()
    first, _, _ = point.acquire(first_ever=True)
    point.finished("completed")
    first.healthy = "worker 4242 exited"
    _, use, why = point.acquire(first_ever=True)
    assert (use, why) == ("restarted", "worker 4242 exited")


def test_seeded_faults_restart_the_target_every_step(servers: Any) -> None:
    point = servers(faults=("blocking_io",))
    point.acquire(first_ever=True)
    point.finished("completed")
    _, use, why = point.acquire(first_ever=True)
    assert (use, why) == ("restarted", FAULTS_REASON)


def test_closing_stops_the_target(servers: Any) -> None:
    with servers() as point:
        lease, _, _ = point.acquire(first_ever=True)
    assert lease.stopped


def test_a_file_s_end_is_taken_at_its_last_whole_line(tmp_path: Path) -> None:
    lag = tmp_path / "lag.csv"
    lag.write_bytes(b"t,lag_ms\n100.5,0.2\n101.5,0.3\n102.")  # a line still being written
    assert whole_lines_end(lag) == len(b"t,lag_ms\n100.5,0.2\n101.5,0.3\n")
    assert last_time(lag) == 101.5
    lag.write_bytes(b"t,lag_ms\n")
    assert last_time(lag) is None
    assert whole_lines_end(tmp_path / "absent.csv") == 0


def test_a_resumed_configuration_numbers_its_target_after_those_kept(
    servers: Any, tmp_path: Path
) -> None:
    (tmp_path / POINT.slug / "target-01").mkdir(parents=True)  # the interrupted sweep's
    lease, _, _ = servers().acquire(first_ever=False)
    assert lease.dir.name == "target-02"
