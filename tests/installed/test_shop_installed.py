"""The README's demo and shop's seeded faults, from a wheel, run from a folder outside the
repository: the same locations as in the development checkout, no spurious finding."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.installed.environment import Installed
from tests.installed.runs import describe, findings, lagscope_run, line_of
from tests.interrupt import interruptible

pytestmark = pytest.mark.e2e
# The demo's length; 5 s (the development suite's) leaves too short a steady window for
# the gauges' trends when the machine is busy with other work.
DURATION = "8s"


def faults(installed: Installed) -> Path:
    """shop's fault modules as installed (inside site-packages, not the checkout)."""
    return installed.site_packages / "lagscope" / "target_apps" / "shop" / "faults"


def test_the_demo_names_the_seeded_line_and_nothing_else(
    installed: Installed, neutral: Path
) -> None:
    done, summary = lagscope_run(
        installed, neutral / "demo", "--app", "shop", "--fault", "blocking_io",
        "--duration", DURATION, cwd=neutral,
    )  # fmt: skip
    line = line_of(faults(installed) / "blocking_io.py", "# noqa: ASYNC210")
    expected = f"target_apps/shop/faults/blocking_io.py:{line}"
    assert f"CRITICAL event_loop_blocking at {expected}\n" in done.stdout, done.describe()
    blocking = findings(summary)["event_loop_blocking"]
    assert (blocking["location"], blocking["cause"]) == (expected, "wait")
    # A loop that runs late lands a few short stalls on whatever shop code ran then:
    # warnings of the same kind, in shop's code.  Nothing else is found.
    assert set(findings(summary)) == {"event_loop_blocking"}, describe(summary)
    assert all(f["location"].startswith("target_apps/shop/") for f in summary["diagnosis"]), (
        describe(summary)
    )


def test_a_leak_is_named_where_its_sessions_open(installed: Installed, neutral: Path) -> None:
    _, summary = lagscope_run(
        installed, neutral / "leak", "--app", "shop", "--fault", "connection_leak",
        "--duration", DURATION, cwd=neutral,
    )  # fmt: skip
    line = line_of(faults(installed) / "connection_leak.py", "session = sessions()")
    leak = findings(summary).get("connection_pool_exhaustion")
    assert leak is not None, describe(summary)
    assert leak["location"] == f"target_apps/shop/faults/connection_leak.py:{line} (session_broken)"


def test_piling_tasks_are_named_where_they_wait(installed: Installed, neutral: Path) -> None:
    _, summary = lagscope_run(
        installed, neutral / "tasks", "--app", "shop", "--fault", "unbounded_tasks",
        "--scenario", "orders", "--duration", DURATION, cwd=neutral,
    )  # fmt: skip
    line = line_of(faults(installed) / "unbounded_tasks.py", "async with self.connections:")
    tasks = findings(summary).get("unbounded_background_tasks")
    assert tasks is not None, describe(summary)
    assert tasks["location"] == f"target_apps/shop/faults/unbounded_tasks.py:{line} (send)"


def test_a_log_flood_is_named_at_its_source(installed: Installed, neutral: Path) -> None:
    _, summary = lagscope_run(
        installed, neutral / "logs", "--app", "shop", "--fault", "log_flood",
        "--duration", DURATION, cwd=neutral,
    )  # fmt: skip
    flood = findings(summary).get("log_flood")
    assert flood is not None, describe(summary)
    assert flood["location"].startswith("target_apps/shop/faults/log_flood.py:"), describe(summary)


def _seconds_into(out: Path, phase: str) -> float:
    """How long ago the game day in ``out`` started ``phase`` (-1 until it has)."""
    try:
        lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return -1.0
    starts = [json.loads(line) for line in lines if '"phase_start"' in line]
    started = [e["t"] for e in starts if e.get("phase") == phase]
    return time.time() - started[0] if started else -1.0


def test_a_built_in_game_day_runs_by_name(installed: Installed, neutral: Path) -> None:
    # By name, from the package data, in a folder that is not the checkout.  Interrupted
    # (Ctrl-C) 5 s into its deploy phase, once blocking_io is on: the whole exercise, its
    # alerts and expectations, is the development suite's (tests/harness/test_gameday_e2e.py).
    out = neutral / "gameday"
    proc = subprocess.Popen(
        [installed.lagscope, "gameday", "blocking_deploy", "--out", out], cwd=neutral,
        env=installed.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=interruptible,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _seconds_into(out, "deploy") < 5.0 and proc.poll() is None:
        assert time.monotonic() < deadline, "the deploy phase never came"
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["outcome"] == "interrupted"
    assert summary["gameday"]["started"]
    shipped = installed.site_packages / "lagscope/scenarios/gamedays/blocking_deploy.toml"
    assert (out / "gameday.toml").read_text() == shipped.read_text()
    line = line_of(faults(installed) / "blocking_io.py", "# noqa: ASYNC210")
    # Named as in a checkout: the deploy's blocking call, among the loop's blockers.
    blockers = [b["location"] for b in summary["loop"]["top_blockers"]]
    assert f"target_apps/shop/faults/blocking_io.py:{line}" in blockers, describe(summary)
