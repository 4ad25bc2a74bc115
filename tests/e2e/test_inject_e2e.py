"""The probe's injector end to end, on an app that is not shop and has no admin endpoint.

``tests/e2e/apps/ledger.py`` calls its own rates service (a separate process on loopback)
through ``httpx.AsyncClient`` and reads SQLite through an async SQLAlchemy engine.  Two
game days cover it: the shipped ``dependency_slows_down.toml`` (pointed at ledger with
``--app``), and one exercise that goes through every fault kind phase by phase on two
workers, each phase measured from the run directory.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lagscope.harness.cli.main import main
from lagscope.harness.run.processes import free_port

from tests.e2e.apps.ledger_rates import serving

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
LEDGER = "tests.e2e.apps.ledger:app"
SOURCE = REPO / "tests" / "e2e" / "apps" / "ledger.py"


def line_of(snippet: str) -> str:
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    return f"tests/e2e/apps/ledger.py:{next(n for n, s in enumerate(lines, 1) if snippet in s)}"


BALANCE_CALL = line_of('rates.get("/rates/eur")') + " (balance)"
STATEMENT_CALL = line_of("await session.execute") + " (statement)"


@pytest.fixture
def rates(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The ledger's downstream, in its own process; the target inherits its URL."""
    with serving(free_port()) as url:
        monkeypatch.setenv("LEDGER_RATES_URL", url)
        yield url


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def _finding(summary: dict[str, Any], kind: str, location: str) -> dict[str, Any]:
    found = [f for f in summary["diagnosis"] if f["kind"] == kind and f["location"] == location]
    said = [(f["kind"], f["location"], f.get("phase")) for f in summary["diagnosis"]]
    assert found, f"no {kind} at {location}: {said}"
    return found[0]


def test_a_dependency_slows_down_on_an_app_of_ones_own(
    rates: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    exercise = REPO / "scenarios" / "gamedays" / "dependency_slows_down.toml"
    code = main(["gameday", str(exercise), "--app", LEDGER, "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stdout[-3000:] + stderr[-2000:]
    summary = _summary(out)
    gameday = summary["gameday"]
    assert all(e["passed"] for e in gameday["expectations"]), gameday["expectations"]
    assert gameday["time_to_detect_s"] <= 30.0
    # The finding names the app's own calling line, and says the fault was injected.
    slow = _finding(summary, "slow_dependency", BALANCE_CALL)
    assert slow["injected"] == ["dependency_latency host=* latency=1.5s"]
    report = (out / "report.md").read_text()
    assert "(injected: dependency_latency host=* latency=1.5s)." in report
    (window,) = summary["injected"]
    assert window["affected"] == window["matched"] > 0
    assert "injected: dependency_latency host=* latency=1.5s from " in stdout
    assert "Injected: dependency_latency host=* latency=1.5s from " in report
    # Every injection is gone when the run ends: the worker said so, and the state is clear.
    log = (out / "logs" / "target.log").read_text()
    assert "now nothing" in log
    assert json.loads((out / "inject.json").read_text())["faults"] == []


def test_inject_on_the_command_line_is_on_from_the_start(rates: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    spec = f"dependency_latency url={rates}/rates latency=300ms"
    argv = ["run", "--app", LEDGER, "--rate", "20", "--duration", "5s", "--out", str(out),
            "--inject", spec]  # fmt: skip
    assert main(argv) == 0
    summary = _summary(out)
    (window,) = summary["injected"]
    assert window["spec"] == spec
    assert window["affected"] == window["matched"] > 10
    balance = summary["requests"]["endpoints"]["GET /balance"]
    assert (
        300.0
        <= balance["p50_ms"]
        <= 330.0 + summary["requests"]["endpoints"]["GET /ping"]["p50_ms"]
    )
    assert summary["requests"]["endpoints"]["GET /convert"]["p50_ms"] < 100.0
    assert json.loads((out / "run.json").read_text())["config"]["inject"] == [spec]


# Each phase injects exactly its faults (a phase's inject list replaces the previous one).
ALL_KINDS = """
title = "every fault kind"
[load]
rate = 40
workers = 2
[slo]
latency = "p99<500ms"
[[phase]]
at = "0s"
name = "baseline"
[[phase]]
at = "5s"
name = "dependencies"
inject = [
  {{ kind = "dependency_latency", url = "{rates}/rates", latency = "1.2s" }},
  {{ kind = "dependency_errors", url = "{rates}/fx", error = 503, probability = 0.3 }},
  {{ kind = "db_latency", latency = "1.1s", pattern = "from entries" }},
]
[[phase]]
at = "13s"
name = "loop"
inject = [{{ kind = "loop_block", block = "100ms", every = "1s" }}]
[[phase]]
at = "19s"
name = "cpu"
inject = [{{ kind = "cpu_burn", share = 0.25 }}]
[[phase]]
at = "25s"
name = "leak"
inject = [{{ kind = "memory_leak", rate = "20MB/s" }}]
[[phase]]
at = "31s"
name = "crash"
inject = [{{ kind = "worker_crash" }}]
[[phase]]
at = "37s"
name = "end"
"""


def _phases(out: Path) -> dict[str, tuple[float, float]]:
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    applied = {e["phase"]: e["t"] for e in events if e["event"] == "phase_action"}
    starts = {e["phase"]: e["t"] for e in events if e["event"] == "phase_start"}
    plan = next(e["start"] for e in events if e["event"] == "plan_start")
    bounds = {**starts, **applied, "end": plan + 37.0}
    names = ["baseline", "dependencies", "loop", "cpu", "leak", "crash", "end"]
    return {a: (bounds[a], bounds[b]) for a, b in zip(names, names[1:], strict=False)}


def _requests(out: Path, path: str, span: tuple[float, float]) -> pd.DataFrame:
    r = pd.read_parquet(out / "requests.parquet")
    # Requests sent 0.5 s after the switch reached the workers, and done before the next.
    inside = (r["t"] >= span[0] + 0.5) & (r["t"] + r["uncorrected_ms"] / 1000.0 <= span[1])
    return r.loc[(r["name"] == path) & inside]  # the openapi scenario names requests by path


def _stalls(out: Path, span: tuple[float, float], location: str) -> list[dict[str, Any]]:
    stalls = [
        json.loads(line)
        for path in out.glob("workers/*/stalls.jsonl")
        for line in path.read_text().splitlines()
    ]
    return [s for s in stalls if span[0] <= s["start"] <= span[1] and s["location"] == location]


RATES_URL: dict[Path, str] = {}  # each exercise's run directory -> its rates service


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One exercise through every kind (run once for the tests below)."""
    tmp = tmp_path_factory.mktemp("every-kind")
    with serving(free_port()) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGER_RATES_URL", url)
        exercise = tmp / "every_kind.toml"
        exercise.write_text(ALL_KINDS.format(rates=url))
        out = tmp / "run"
        main(["gameday", str(exercise), "--app", LEDGER, "--out", str(out)])
    RATES_URL[out] = url
    return out


def test_dependency_latency_adds_the_asked_latency_at_the_calling_line(every_kind: Path) -> None:
    phases = _phases(every_kind)
    before = _requests(every_kind, "/balance", phases["baseline"])["latency_ms"]
    during = _requests(every_kind, "/balance", phases["dependencies"])["latency_ms"]
    added = statistics.median(during) - statistics.median(before)
    assert abs(added - 1200.0) <= 120.0, (added, len(during))
    slow = _finding(_summary(every_kind), "slow_dependency", BALANCE_CALL)
    url = RATES_URL[every_kind]
    # Every fault active in the phase that can slow an endpoint is named (db_latency too).
    assert f"dependency_latency url={url}/rates latency=1.2s" in slow["injected"]


def test_dependency_errors_fail_at_the_asked_probability(every_kind: Path) -> None:
    during = _requests(every_kind, "/convert", _phases(every_kind)["dependencies"])
    n, failed = len(during), int((during["status"] == 502).sum())
    bound = 4 * (0.3 * 0.7 / n) ** 0.5  # four binomial standard deviations
    assert abs(failed / n - 0.3) <= bound, (failed, n)
    errors = [f for f in _summary(every_kind)["diagnosis"] if f["kind"] == "server_errors"]
    assert errors, _summary(every_kind)["diagnosis"]
    assert any("dependency_errors" in " ".join(f.get("injected", [])) for f in errors)


def test_db_latency_adds_the_asked_latency_to_the_statement(every_kind: Path) -> None:
    phases = _phases(every_kind)
    before = _requests(every_kind, "/statement", phases["baseline"])["latency_ms"]
    during = _requests(every_kind, "/statement", phases["dependencies"])["latency_ms"]
    added = statistics.median(during) - statistics.median(before)
    assert abs(added - 1100.0) <= 110.0, (added, len(during))
    slow = _finding(_summary(every_kind), "slow_dependency", STATEMENT_CALL)
    assert "db_latency latency=1.1s pattern='from entries'" in slow["injected"]


@pytest.mark.parametrize(
    ("kind", "phase", "block_ms", "cause"),
    [("loop_block", "loop", 100.0, "wait"), ("cpu_burn", "cpu", 250.0, "cpu")],
)
# A stall lasts until the heartbeat runs again: the block, then the requests that queued
# behind it (a few ms each; more after a CPU burn on a busy machine, when every process
# wants the CPU back).  The block itself is never shorter than asked.
def test_the_loop_is_blocked_for_the_asked_time_and_the_stall_is_labelled(
    every_kind: Path, kind: str, phase: str, block_ms: float, cause: str
) -> None:
    span = _phases(every_kind)[phase]
    stalls = _stalls(every_kind, span, f"<injected {kind}>")
    assert len(stalls) >= 8, stalls  # about one a second in each of the two workers
    durations = [s["duration_ms"] for s in stalls]
    median = statistics.median(durations)
    assert 0.95 * block_ms <= median <= (1.1 if kind == "loop_block" else 1.4) * block_ms, durations
    assert all(s["injected"] == kind and not s["in_user_code"] for s in stalls)
    finding = _finding(_summary(every_kind), "event_loop_blocking", f"<injected {kind}>")
    assert finding["summary"].startswith(f"Injected {kind}")
    assert finding["cause"] == cause
    assert kind in finding["injected"][0]


def test_memory_leak_grows_rss_at_the_asked_rate(every_kind: Path) -> None:
    start, end = _phases(every_kind)["leak"]
    rates = []
    for path in every_kind.glob("workers/*/gauges.csv"):
        g = pd.read_csv(path)
        g = g.loc[(g["t"] >= start + 0.5) & (g["t"] <= end - 0.2)]
        if len(g) >= 8:  # ~10 in the leak's 5.3 s at a sample every 0.5 s; fewer when busy
            rates.append(float(np.polyfit(g["t"], g["rss_mb"], 1)[0]))
    assert rates, "no worker sampled its RSS through the leak"
    assert all(abs(rate - 20.0) <= 3.0 for rate in rates), rates
    growth = _finding(_summary(every_kind), "memory_growth", "<injected memory_leak>")
    assert growth["injected"] == ["memory_leak rate=20MB/s"]


def test_a_crashed_worker_is_replaced_and_the_report_says_so(every_kind: Path) -> None:
    records = [
        json.loads(line)
        for path in every_kind.glob("workers/*/injected.jsonl")
        for line in path.read_text().splitlines()
    ]
    (crash,) = [r for r in records if r["action"] == "crash"]
    metas = [json.loads(p.read_text()) for p in every_kind.glob("workers/*/meta.json")]
    replacements = [m for m in metas if m["started"] > crash["t"]]
    assert len(metas) == 3, metas  # two workers, and the one started after the crash
    assert replacements, metas
    restarted = _finding(_summary(every_kind), "worker_restarted", "<injected worker_crash>")
    assert restarted["injected"] == ["worker_crash"]  # the default signal (SIGKILL) unsaid
    assert "the server replaced it" in restarted["summary"]
