"""`lagscope gameday` end to end: real servers and Locust on loopback, phases switched live."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lagscope.harness.cli.main import main

from tests.harness.test_lifecycle import wait_until_gone
from tests.interrupt import interruptible

# A 28 s exercise at 40 requests/s (open model): the payments downstream slows from 10 ms
# to 1 s at 6 s and recovers at 18 s. The last expectation is deliberately wrong: a request
# that takes 1 s cannot even complete, let alone page, within 1 s of the degradation.
# The objective is P99: a burn rate of 10 pages at 10 % of requests over it, which the
# degradation gives (POST /orders is a third of the SLO's requests) and one slow request
# in the first seconds of warm-up does not (at P99.9, 1 %, one in 80 would page).
TINY = """
title = "tiny slow dependency"
narrative = "Payments slows down for twelve seconds."
expect = [
  "alert fast does not fire before degrade",
  "alert fast fires within 10s of degrade",
  "alert fast resolves within 10s of recover",
  "slo latency recovers within 8s of recover",
  "alert fast fires within 1s of degrade",
]
[load]
rate = 40
faults = ["slow_downstream"]  # shop waits for payments without a timeout
downstream_latency = "10ms"
[slo]
recovery_window = "3s"
latency = { objective = "p99<400ms", endpoints = ["GET /products", "POST /orders"] }
availability = "errors<1%"
[[alert]]
name = "fast"
slo = "latency"
long_window = "10s"
short_window = "2s"
burn_rate = 10
[[phase]]
at = "0s"
name = "warm-up"
[[phase]]
at = "6s"
name = "degrade"
role = "inject"
downstream = { latency = "1000ms" }
[[phase]]
at = "18s"
name = "recover"
role = "fix"
downstream = { latency = "10ms" }
faults = ["slow_downstream"]  # the same faults, switched through the token-guarded admin
[[phase]]
at = "28s"
name = "end"
"""


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.mark.e2e
def test_a_game_day_switches_phases_live_pages_and_fails_a_wrong_expectation(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["gameday", str(tiny), "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert "▶" in stderr
    assert "phase degrade (inject)" in stderr
    assert "expectation failed: alert fast fires within 1s of degrade (fired" in stderr, (
        stderr
    )  # says why
    gameday = json.loads((out / "summary.json").read_text())["gameday"]
    assert [e["passed"] for e in gameday["expectations"]] == [True, True, True, True, False], (
        gameday["expectations"]
    )
    assert 1.0 <= gameday["time_to_detect_s"] <= 10.0
    assert 0.0 <= gameday["time_to_mitigate_s"] <= 8.0
    assert gameday["error_budget_consumed"]["latency"] > 0
    assert gameday["error_budget_consumed"]["availability"] == 0
    (fast,) = gameday["alerts"]
    assert [c["firing"] for c in fast["transitions"]] == [True, False]
    started = {p["name"]: p["started_at"] for p in gameday["phases"]}
    assert started["degrade"] == pytest.approx(6.0, abs=1.0)  # applied on time, give or take
    actions = [e for e in events_of(out) if e["event"] == "phase_action"]
    assert [(a["phase"], a["action"]) for a in actions] == [
        ("degrade", "downstream {'latency_ms': 1000.0}"),
        ("recover", "faults on: ['slow_downstream']"),
        ("recover", "downstream {'latency_ms': 10.0}"),
    ]
    assert (out / "gameday.toml").read_text() == TINY
    assert "## Game day" in (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert 'id="gameday"' in html
    assert 'id="chart-gameday"' in html
    assert (out / "gameday.png").is_file()
    assert json.loads((out / "run.json").read_text())["config"]["rate"] == "40"
    assert "time to detect" in stdout


@pytest.mark.e2e
def test_ctrl_c_during_a_game_day_stops_everything_and_reports_what_ran(
    tiny: Path, tmp_path: Path
) -> None:
    closed = tmp_path / "closed.toml"  # the closed model this time: 8 users
    closed.write_text(tiny.read_text().replace("rate = 40", "users = 8"))
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lagscope", "gameday", str(closed), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = out / "events.jsonl"
        if events.exists() and '"phase": "degrade"' in events.read_text():
            break
        time.sleep(0.2)
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout.startswith("Interrupted after ")
    assert "of the 28 s load: the report covers what was collected until then." in stdout
    assert "Traceback" not in stderr
    assert wait_until_gone(out) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["outcome"] == "interrupted"
    assert json.loads((out / "run.json").read_text())["config"]["users"] == 8
    gameday = summary["gameday"]
    started = {p["name"]: p["started_at"] for p in gameday["phases"]}
    assert started["degrade"] is not None
    assert started["recover"] is None
    recover = gameday["expectations"][2]
    assert recover["passed"] is False
    assert "never started" in recover["actual"]
    assert "## Game day" in (out / "report.md").read_text()


# A 10 s exercise on two workers: a deploy switches blocking_io on at 3 s (every order then
# blocks its worker's loop for the ~60 ms payments takes), the rollback switches it off at 7 s.
TWO_WORKERS = """
title = "blocking deploy on two workers"
[load]
rate = 30
workers = 2
downstream_latency = "60ms"
[slo]
latency = "p99<500ms"
[[phase]]
at = "0s"
name = "warm-up"
[[phase]]
at = "3s"
name = "deploy"
role = "inject"
faults = ["blocking_io"]
[[phase]]
at = "7s"
name = "rollback"
role = "fix"
faults = []
[[phase]]
at = "10s"
name = "end"
"""


def blocking_io_stalls(worker: Path) -> list[float]:
    """When the stalls of one worker blamed on the seeded blocking call started."""
    path = worker / "stalls.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    stalls = [json.loads(line) for line in lines]
    fault = "target_apps/shop/faults/blocking_io.py:"
    # A stall the watchdog could not sample in time has no location.
    return [s["start"] for s in stalls if (s["location"] or "").startswith(fault)]


@pytest.mark.e2e
def test_a_game_day_switches_faults_in_every_worker(tmp_path: Path) -> None:
    exercise = tmp_path / "two_workers.toml"
    exercise.write_text(TWO_WORKERS)
    out = tmp_path / "run"
    assert main(["gameday", str(exercise), "--out", str(out)]) == 0
    switched = {
        e["phase"]: e["t"]
        for e in events_of(out)
        if e["event"] == "phase_action" and e["action"].startswith("faults on")
    }
    workers = sorted((out / "workers").iterdir())
    assert len(workers) == 2
    # Every worker says when it applied each switch (which worker gets which keep-alive
    # connection is the kernel's choice, so one may serve no order in the 4 s window).
    log = (out / "logs" / "target.log").read_text()
    for worker in workers:
        assert f"shop worker {worker.name}: faults now ['blocking_io']" in log, log[-2000:]
        assert f"shop worker {worker.name}: faults now none" in log, log[-2000:]
    stalls = {worker.name: blocking_io_stalls(worker) for worker in workers}
    # The fault blocked the loop between the switches, and never outside them.
    assert any(switched["deploy"] < t < switched["rollback"] for ts in stalls.values() for t in ts)
    for name, starts in stalls.items():
        assert not [t for t in starts if t < switched["deploy"] - 0.5], name
        assert not [t for t in starts if t > switched["rollback"] + 0.5], name
    state = json.loads((out / "faults.json").read_text())
    assert state["enabled"] == []  # the last switch, as the rollback left it


def test_a_bad_game_day_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('at = "18s"', 'at = "3s"'))
    assert main(["gameday", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "recover at 3s must come after degrade" in err
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        TINY.replace('faults = ["slow_downstream"]  # shop', 'faults = ["x"]  # shop')
    )
    assert main(["gameday", str(unknown)]) == 2
    assert "'x' is not a fault of shop" in capsys.readouterr().err
    assert main(["gameday", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


PLAIN = """
title = "plain"
[load]
app = "shop"
rate = 5
faults = []
[slo]
availability = "errors<1%"
[[phase]]
at = "0s"
name = "start"
[[phase]]
at = "3s"
name = "deploy"
faults = ["blocking_io"]
[[phase]]
at = "5s"
name = "end"
"""


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('faults = []', 'faults = ["nosuch"]'),
         "{file}: [load] faults 'nosuch' is not a fault of shop; choose from: blocking_io"),
        (('["blocking_io"]', '["nosuch"]'),
         "{file}: [[phase]] deploy: faults 'nosuch' is not a fault of shop; choose from: "),
        (('app = "shop"', 'app = "notasgi:app"'),
         "{file}: faults ([load] faults, [[phase]] faults) are seeded in the built-in app only"),
        (('app = "shop"\nrate = 5\nfaults = []', 'app = "notasgi:app"\nrate = 5'),
         "{file}: faults ([load] faults, [[phase]] faults) are seeded in the built-in app only"),
        (('app = "shop"', 'app = "shop"\nscenario = "nope"'),
         "{file}: [load] scenario 'nope' is neither a built-in scenario"),
    ],
)  # fmt: skip
def test_game_day_file_errors_name_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], says: str
) -> None:
    exercise = tmp_path / "exercise.toml"
    exercise.write_text(PLAIN.replace(*change))
    assert main(["gameday", str(exercise), "--out", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.splitlines()  # no banner before it
    assert says.format(file=exercise) in line
    assert "--fault" not in line
    assert not (tmp_path / "run").exists()


def test_a_game_day_app_that_is_not_asgi_names_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notasgi.py").write_text("app = 42\n")
    monkeypatch.chdir(tmp_path)
    exercise = tmp_path / "exercise.toml"
    no_faults = PLAIN.replace('faults = ["blocking_io"]\n', "").replace("faults = []\n", "")
    exercise.write_text(no_faults.replace('app = "shop"', 'app = "notasgi:app"'))
    assert main(["gameday", str(exercise)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"lagscope: error: {exercise}: 'notasgi:app' is not an ASGI app (got int); "
        "point [load] app at your FastAPI() instance, or at a function that takes no "
        "arguments and returns it"
    )


def test_a_game_day_into_an_existing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exercise = tmp_path / "exercise.toml"
    exercise.write_text(PLAIN)
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["gameday", str(exercise), "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.splitlines()  # no "game day ... →" banner first
    assert "already exists and is not empty; choose another --out" in line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
