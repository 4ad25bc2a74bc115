"""What the machine did to a run, read from its events: a full disk, a dead load generator,
other runs on the same CPU; and the self-check lines and exit-code line that say so."""

from __future__ import annotations

from typing import Any

import pandas as pd
from lagscope.harness.cli.notices import cut_short_line
from lagscope.reports.environment import cut_short, environment
from lagscope.reports.selfcheck import self_checks
from lagscope.reports.window import Window

T0 = 1_700_000_000.0
WINDOW = Window(start=T0, end=T0 + 10, basis="test")
NO_REQUESTS = pd.DataFrame({"t": pd.Series(dtype=float), "pid": pd.Series(dtype=int)})


def events(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"t": T0, "source": "load", "event": "load_start"}, *rows])


def checks(env: dict[str, Any]) -> list[dict[str, Any]]:
    empty = pd.DataFrame({"t": [], "status": [], "error": []})
    return self_checks(
        requests=empty, resources=pd.DataFrame(), aggregate={"count": 0}, run_requests=empty,
        environment=env, duration_s=10.0, cores=2,
    )  # fmt: skip


def summary(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": {"dir": "runs/x", "duration_s": 10.0},
        "requests": {"aggregate": {"count": 120}},
        "window": {"requests_outside": 3},
        "environment": env,
    }


def test_a_full_disk_stops_the_run_and_every_output_says_when_and_what_to_do() -> None:
    detail = "free space on runs/x fell to 200 KB, under the 1.1 MB the run needs to finish"
    env = environment(
        events({"t": T0 + 3.2, "source": "harness", "event": "disk_low", "detail": detail}),
        NO_REQUESTS, WINDOW,
    )  # fmt: skip
    assert env["stopped"] == {"reason": "disk_full", "detail": detail, "after_s": 3.2}
    assert cut_short(env)
    (warning,) = checks(env)
    assert warning == {
        "kind": "run_stopped",
        "message": f"The run was stopped 3.2 s into its 10 s load: {detail}. The figures cover "
        "what was collected until then; free space there (or choose another --out) and run "
        "again.",
    }
    assert cut_short_line(summary(env)) == (
        f"lagscope: the run stopped 3.2 s into the 10 s load: {detail}; kept: 123 requests and "
        "the report of what was collected (runs/x/report.html); free space there, or choose "
        "another --out, and run again"
    )


def test_a_write_without_space_counts_as_a_full_disk_and_another_error_as_itself() -> None:
    full = events({"t": T0 + 1, "event": "write_failed", "detail": "d", "no_space": True})
    assert environment(full, NO_REQUESTS, WINDOW)["stopped"]["reason"] == "disk_full"
    other = events({"t": T0 + 1, "event": "write_failed", "detail": "d", "no_space": False})
    stop = environment(other, NO_REQUESTS, WINDOW)["stopped"]
    assert stop["reason"] == "write_failed"
    env = {"stopped": stop, "load_deaths": [], "other_runs": None}
    assert "make the run directory writable" in checks(env)[0]["message"]


def test_a_dead_locust_worker_is_named_with_the_requests_it_left() -> None:
    died = {"t": T0 + 4.1, "event": "load_generator_died", "pid": 77, "role": "locust worker",
            "code": None, "how": "died"}  # fmt: skip
    requests = pd.DataFrame({"t": [T0, T0 + 1, T0 + 2], "pid": [77, 77, 78]})
    env = environment(events(died), requests, WINDOW)
    assert env["load_deaths"] == [
        {"pid": 77, "role": "locust worker", "how": "died", "after_s": 4.1, "requests": 2}
    ]
    (warning,) = checks(env)
    assert warning["message"] == (
        "Load-generator process 77 (a Locust worker) died 4.1 s into the load; its 2 requests "
        "until then are kept and the other processes ran on, so the load was lighter from "
        "then on."
    )
    assert cut_short_line(summary(env)) == (
        "lagscope: load-generator process 77 (a Locust worker) died 4.1 s into the 10 s load; "
        "kept: its 2 requests until then, the other processes ran on, and the report "
        "(runs/x/report.html); see runs/x/logs/locust.log and run again for the full load"
    )


def test_a_killed_locust_ends_the_load() -> None:
    died = {"t": T0 + 2, "event": "load_generator_died", "pid": 5, "role": "locust",
            "code": -9, "how": "was killed by SIGKILL"}  # fmt: skip
    env = environment(events(died), NO_REQUESTS, WINDOW)
    assert checks(env)[0]["message"] == (
        "The load generator (Locust, pid 5) was killed by SIGKILL 2 s into the load; the 0 "
        "requests it sent until then are kept and the run ended there."
    )


def test_another_run_on_the_cpu_during_the_window_is_a_shared_machine() -> None:
    seen = [
        {"t": T0 + 5, "event": "other_runs", "runs": ["runs/b"], "cpu_pct": 80.0, "seconds": 5.0},
        {"t": T0 + 10, "event": "other_runs", "runs": ["runs/b"], "cpu_pct": 40.0, "seconds": 5.0},
        {"t": T0 + 60, "event": "other_runs", "runs": ["runs/c"], "cpu_pct": 99.0, "seconds": 5.0},
    ]  # fmt: skip
    env = environment(events(*seen), NO_REQUESTS, WINDOW)
    assert env["other_runs"] == {"runs": ["runs/b"], "cpu_pct_mean": 60.0, "seconds": 10.0}
    assert not cut_short(env)  # the run went to its end: exit code as usual
    (warning,) = checks(env)
    assert warning["message"] == (
        "The machine was shared: another lagscope run (runs/b) ran at the same time, and its "
        "processes used 60% of a core (of the 2 cores here) on average during the window; "
        "latency, throughput and CPU figures include that contention. Run alone for clean "
        "figures."
    )


def test_an_idle_other_run_is_not_competition() -> None:
    idle = {"t": T0 + 5, "event": "other_runs", "runs": ["runs/b"], "cpu_pct": 1.0, "seconds": 5}
    assert checks(environment(events(idle), NO_REQUESTS, WINDOW)) == []


def test_a_run_the_machine_left_alone_says_nothing() -> None:
    env = environment(events(), NO_REQUESTS, WINDOW)
    assert env == {"stopped": None, "load_deaths": [], "other_runs": None}
    assert checks(env) == []
    assert cut_short_line(summary(env)) is None
