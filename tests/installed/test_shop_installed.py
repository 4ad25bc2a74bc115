"""The README's demo and shop's seeded faults, from a wheel, run from a folder outside the
repository: the same locations as in the development checkout, no spurious finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.installed.environment import Installed
from tests.installed.runs import describe, findings, lagscope_run, line_of

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


def test_a_built_in_game_day_runs_by_name(installed: Installed, neutral: Path) -> None:
    out = neutral / "gameday"
    done = installed.run(
        "lagscope", "gameday", "blocking_deploy", "--out", out, cwd=neutral, timeout=400
    )
    # Exit 1 is a failed expectation: on a machine busy with other work the latency SLO
    # can burn before the deploy.  The exercise itself must have run to its end.
    assert done.returncode in (0, 1), done.describe()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["outcome"] != "interrupted"
    assert summary["gameday"]["started"]
    shipped = installed.site_packages / "lagscope/scenarios/gamedays/blocking_deploy.toml"
    assert (out / "gameday.toml").read_text() == shipped.read_text()
    judged = {e["text"]: e["passed"] for e in summary["gameday"]["expectations"]}
    assert judged["page fires within 30s of deploy"], done.describe()
    line = line_of(faults(installed) / "blocking_io.py", "# noqa: ASYNC210")
    # Named as in a checkout.  (Not necessarily the worst: on an overloaded machine the
    # pool times out behind the stalls, and logging each 500's traceback blocks too.)
    blocked = {f["location"] for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"}
    assert f"target_apps/shop/faults/blocking_io.py:{line}" in blocked, describe(summary)
