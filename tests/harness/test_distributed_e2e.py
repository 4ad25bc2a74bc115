"""Beyond one machine, end to end on loopback addresses standing in for hosts.

A target lagscope did not start (plain uvicorn, 2 workers, instrument(app,
probe_token=...)) on 127.0.0.2; the Locust master of `lagscope run --load-workers 2`
on 127.0.0.4; two `lagscope loadgen` processes, named for 127.0.0.3 and 127.0.0.5 (on
one machine they connect from the kernel's choice of loopback source address).
Never any address outside 127.0.0.0/8.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest
from lagscope.harness.cli.main import main

from lagscope import rundir
from tests.harness.stall_queue import drain_round_trip_ms, p95_ceiling_ms

APPS = Path(__file__).resolve().parent / "apps"
SCENARIO = str(APPS / "remote" / "scenario.py")
TARGET_HOST, MASTER_HOST = "127.0.0.2", "127.0.0.4"
NAMES = ("loadgen@127.0.0.3", "loadgen@127.0.0.5")
TOKEN = "probe-s3cret"

pytestmark = pytest.mark.e2e


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def started(
    argv: list[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A process group of this test's, killed when the block ends however it ends."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """The remote app under plain uvicorn with 2 workers, started here, not by lagscope."""
    port = free_port(TARGET_HOST)
    (tmp_path / "prom").mkdir()
    env = dict(os.environ, REMOTE_PROBE_TOKEN=TOKEN, PYTHONPATH=str(APPS),
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))  # fmt: skip
    argv = [sys.executable, "-m", "uvicorn", "remote.app:app", "--host", TARGET_HOST,
            "--port", str(port), "--workers", "2", "--log-level", "warning"]  # fmt: skip
    url = f"http://{TARGET_HOST}:{port}"
    with started(argv, log=tmp_path / "target.log", env=env) as proc:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "target.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/items", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the target did not answer in 30 s"
            time.sleep(0.2)
        yield url


@contextlib.contextmanager
def loadgens(
    port: int, tmp_path: Path, *, skew_s: float = 0.0
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two loadgens; with ``skew_s`` the second one's wall clock is that far ahead."""
    skewed = dict(os.environ, TEST_CLOCK_SKEW_S=str(skew_s),
                  PYTHONPATH=str(APPS / "skewed_clock"))  # fmt: skip
    with contextlib.ExitStack() as stack:
        procs = []
        for n, name in enumerate(NAMES):
            argv = [sys.executable, "-m", "lagscope", "loadgen",
                    "--master", f"{MASTER_HOST}:{port}", "--name", name]  # fmt: skip
            env = skewed if n == 1 and skew_s else None
            procs.append(stack.enter_context(started(argv, log=tmp_path / f"lg-{n}.log", env=env)))
        yield procs


def distributed_run(out: Path, port: int, *args: str) -> int:
    return main([
        "run", "--out", str(out), "--scenario", SCENARIO, "--users", "10",
        "--load-workers", "2", "--master-bind", f"{MASTER_HOST}:{port}", "--workers-wait", "30s",
        *args,
    ])  # fmt: skip


def when_worker_sends(out: Path, name: str, then: Callable[[], None]) -> threading.Thread:
    """A thread that calls ``then`` 2 s after worker ``name`` has its users running."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                for line in (out / rundir.EVENTS).read_text().splitlines():
                    event = json.loads(line)
                    if event["event"] == "spawning_complete" and event.get("load_worker") == name:
                        time.sleep(2)
                        then()
                        return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, name="test-watch", daemon=True)
    thread.start()
    return thread


def marked_line(path: Path, marker: str) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith(marker))


def summary_of(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_two_load_workers_and_an_external_targets_probe_name_the_blocker(
    tmp_path: Path, target: str
) -> None:
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    with loadgens(port, tmp_path) as procs:
        code = distributed_run(out, port, "--target", target, "--probe-token", TOKEN,
                               "--duration", "6s")  # fmt: skip
        # Each loadgen serves one run and exits with it.
        assert [proc.wait(timeout=15) for proc in procs] == [0, 0]
    assert code == 0
    summary = summary_of(out)
    line = marked_line(APPS / "remote" / "app.py", "# BLOCKS: report")
    (finding,) = [f for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"]
    assert finding["location"] == f"remote/app.py:{line}"
    assert finding["endpoint"] == "GET /report"
    # Records from both load workers, on the master's clock (loopback: offsets ~0).
    requests = pd.read_parquet(out / rundir.REQUESTS)
    counts = requests["load_worker"].value_counts()
    assert sorted(counts.index) == sorted(NAMES)
    assert counts.min() >= 50, counts
    workers = summary["load_workers"]
    assert sorted(w["name"] for w in workers) == sorted(NAMES)
    for worker in workers:
        assert abs(worker["clock_offset_ms"]) < 5, worker
        assert worker["clock_uncertainty_ms"] < 5, worker
        assert worker["requests"] == counts[worker["name"]]
        assert worker["lost_after_s"] is None
    # Per-worker probe data for both target workers, labelled by host and pid.
    metas = [json.loads(p.read_text()) for p in (out / rundir.WORKERS).glob("*/meta.json")]
    assert len(metas) == 2
    assert {m["host"] for m in metas} == {socket.gethostname()}
    for meta in metas:
        folder = out / rundir.WORKERS / str(meta["pid"])
        lag = pd.read_csv(folder / rundir.LAG)
        assert len(lag) > 100, meta["pid"]
        assert abs(meta["clock_offset_s"]) < 0.05
    stalls = pd.concat(
        pd.read_json(p, lines=True) for p in (out / rundir.WORKERS).glob("*/stalls.jsonl")
    )
    assert stalls["location"].eq(f"remote/app.py:{line}").any()
    assert not [c for c in summary["self_checks"] if c["kind"] == "inside_view_missing"]


def test_a_lost_load_worker_is_reported_and_its_records_kept(tmp_path: Path, target: str) -> None:
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    killed: list[float] = []
    with loadgens(port, tmp_path) as procs:

        def kill_second() -> None:
            killed.append(time.time())
            procs[1].send_signal(signal.SIGKILL)
            procs[1].wait()
            for left in Path(tempfile.gettempdir()).glob(f"lagscope-loadgen-{procs[1].pid}-*"):
                shutil.rmtree(left)  # its own tidying at exit never ran

        watcher = when_worker_sends(out, NAMES[1], kill_second)
        code = distributed_run(out, port, "--target", target, "--duration", "10s")
        watcher.join(timeout=5)
    assert code == 0
    assert killed
    summary = summary_of(out)
    assert summary["run"]["outcome"] == "completed"
    (lost,) = [c for c in summary["self_checks"] if c["kind"] == "load_worker_lost"]
    assert NAMES[1] in lost["message"], lost
    worker = {w["name"]: w for w in summary["load_workers"]}
    assert worker[NAMES[1]]["lost_after_s"] is not None
    assert worker[NAMES[0]]["lost_after_s"] is None
    events = [json.loads(line) for line in (out / rundir.EVENTS).read_text().splitlines()]
    (gone,) = [e for e in events if e["event"] == "load_worker_lost"]
    assert killed[0] - 1.5 <= gone["last_heard"] <= killed[0]  # pings every 0.5 s
    requests = pd.read_parquet(out / rundir.REQUESTS)
    lost_rows = requests.loc[requests["load_worker"] == NAMES[1], "t"]
    kept_rows = requests.loc[requests["load_worker"] == NAMES[0], "t"]
    assert len(lost_rows) >= 20  # its ~2 s before the kill, bar the last unshipped second
    assert lost_rows.max() <= killed[0]
    assert kept_rows.max() > killed[0] + 4  # the other went on to the end
    # Without --probe-token the run says what it could not see.
    assert [c for c in summary["self_checks"] if c["kind"] == "inside_view_missing"]


def test_killing_the_master_leaves_no_loadgen_after_ten_seconds(
    tmp_path: Path, target: str
) -> None:
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    killed: list[float] = []

    def kill_master() -> None:
        for proc in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "--master-bind-port" in proc.cmdline():
                    killed.append(time.time())
                    proc.kill()

    with loadgens(port, tmp_path) as procs:
        watcher = when_worker_sends(out, NAMES[1], kill_master)
        distributed_run(out, port, "--target", target, "--duration", "30s")
        watcher.join(timeout=5)
        assert killed
        for proc in procs:
            left = killed[0] + 10 - time.time()
            proc.wait(timeout=max(left, 0.1))  # raises TimeoutExpired if still running


def test_an_open_model_over_two_remote_workers_sends_the_total_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)  # lagscope starts this target itself; only the load is remote
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    with loadgens(port, tmp_path):
        code = main([
            "run", "--out", str(out), "--app", "ticker.app:calm",
            "--scenario", str(APPS / "ticker_scenario.py"), "--rate", "300", "--duration", "6s",
            "--load-workers", "2", "--master-bind", f"{MASTER_HOST}:{port}",
        ])  # fmt: skip
    assert code == 0
    summary = summary_of(out)
    agg, sender = summary["requests"]["aggregate"], summary["open_model"]
    assert sender["procs"] == 2
    assert sender["sent_rps"] == pytest.approx(300, rel=0.02), sender
    assert agg["failures"] == 0
    requests = pd.read_parquet(out / rundir.REQUESTS)
    per_worker = requests.groupby("load_worker").size()
    assert sorted(per_worker.index) == sorted(NAMES)
    assert per_worker.min() == pytest.approx(900, rel=0.02)
    # As with local processes: a healthy app, corrected ≈ uncorrected, apart by the send lag
    # only: each request's corrected latency is its uncorrected one plus its own lag, so
    # the P99s are at most the worst lag apart.  (Three load processes and the target on two
    # cores: a CI run saw the send lag's P99 at 18.7 ms and the P99s 12.3 ms apart.)
    assert sender["send_lag_p50_ms"] < sender["late_threshold_ms"], sender
    gap = agg["p99_ms"] - agg["uncorrected"]["p99_ms"]
    assert gap <= sender["worst_lateness_ms"] + 1e-3, (agg, sender)
    np.testing.assert_allclose(
        requests["latency_ms"], requests["uncorrected_ms"] + requests["send_lag_ms"], atol=1e-6
    )


def test_a_workers_clock_offset_is_measured_and_its_records_moved_onto_the_masters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second loadgen's wall clock runs 3 s ahead. Its share of the plan must still
    # interleave with the other's (the master tells it the start on its own clock), and
    # its rows must land on the master's time axis.
    monkeypatch.chdir(APPS)
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    with loadgens(port, tmp_path, skew_s=3.0):
        code = main([
            "run", "--out", str(out), "--app", "ticker.app:calm",
            "--scenario", str(APPS / "ticker_scenario.py"), "--rate", "200", "--duration", "6s",
            "--load-workers", "2", "--master-bind", f"{MASTER_HOST}:{port}",
        ])  # fmt: skip
    assert code == 0
    summary = summary_of(out)
    offsets = {w["name"]: w["clock_offset_ms"] for w in summary["load_workers"]}
    assert offsets[NAMES[1]] == pytest.approx(3000, abs=5), offsets
    assert offsets[NAMES[0]] == pytest.approx(0, abs=5), offsets
    sender = summary["open_model"]
    assert sender["sent_rps"] == pytest.approx(200, rel=0.02), sender
    assert sender["start_skew_ms"] < 5, sender  # both shares started together
    assert sender["send_lag_p50_ms"] < 2.0, sender
    requests = pd.read_parquet(out / rundir.REQUESTS)
    window = summary["window"]
    for name in NAMES:
        mine = requests.loc[requests["load_worker"] == name]
        assert mine["t"].between(window["start"] - 0.5, window["end"] + 0.5).all(), name
    # Together the two shares keep the one plan's spacing: each takes every other slot, so
    # a slot of one share follows the other's by 1/200 s.  The start each was told is off
    # by its offset's error then, which the plan waits to bring within CLOCK_GOOD_S (a CI
    # run: 1.2 ms apart); a wrong or missing offset would put the shares 3 s apart.
    first, second = (
        np.sort(requests.loc[requests["load_worker"] == name, "intended_t"].to_numpy())
        for name in NAMES
    )
    assert abs(first[0] - second[0]) < 2 / 200, (first[0], second[0])
    after = np.searchsorted(first, second) - 1
    gaps = second[after >= 0] - first[after[after >= 0]]
    # (Not imported: the module imports Locust, which would patch this process with gevent.)
    clock_good_s = 0.001  # lagscope.harness.loadgen.distributed.CLOCK_GOOD_S
    tolerance = 2 * clock_good_s + 0.001  # both offsets' errors, and a margin
    assert np.median(gaps) == pytest.approx(1 / 200, abs=tolerance), np.median(gaps)


def test_corrected_latency_over_remote_workers_matches_the_single_host_oracle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # test_open_model_e2e's oracle (a loop stalling 100 ms once a second: P95 ≈ 50 ms,
    # P99 ≈ 90 ms for arrivals on schedule), its plan split over two remote workers with
    # one user each: coordinated senders, so only the correction recovers the figures.
    monkeypatch.chdir(APPS)
    out, port = tmp_path / "run", free_port(MASTER_HOST)
    with loadgens(port, tmp_path):
        code = main([
            "run", "--out", str(out), "--app", "ticker.app:app",
            "--scenario", str(APPS / "ticker_scenario.py"), "--rate", "200", "--duration", "10s",
            "--max-users", "2", "--load-workers", "2", "--master-bind", f"{MASTER_HOST}:{port}",
        ])  # fmt: skip
    assert code == 0
    summary = summary_of(out)
    loop, agg, sender = summary["loop"], summary["requests"]["aggregate"], summary["open_model"]
    (ticker,) = [b for b in loop["top_blockers"] if b["function"] == "_stall_every_second"]
    assert 8 <= ticker["count"] <= 12, loop
    assert sender["sent_rps"] == pytest.approx(200, rel=0.02), sender
    # P95 also holds the drain after each stall: the ~20 sends it held back go out one at a
    # time from each worker's single user, a round trip each, and with a master, two load
    # workers and the target on 2 cores a round trip can take several ms (seen: 71 ms).
    # Each worker is one user at 100 req/s, the single-host oracle's queue.
    requests = pd.read_parquet(out / rundir.REQUESTS)
    stall_ms, round_trip_ms = ticker["total_ms"] / ticker["count"], drain_round_trip_ms(requests)
    assert 44 <= agg["p95_ms"] <= p95_ceiling_ms(stall_ms, round_trip_ms, floor_ms=80), (
        agg, round_trip_ms)  # fmt: skip
    assert 84 <= agg["p99_ms"] <= 108, agg
    assert agg["uncorrected"]["p95_ms"] < agg["p95_ms"] / 4, agg


def test_too_few_load_workers_is_one_line_naming_what_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port(MASTER_HOST)
    nowhere = f"http://{TARGET_HOST}:{free_port(TARGET_HOST)}"
    code = main(["run", "--out", str(tmp_path / "run"), "--target", nowhere,
                 "--scenario", SCENARIO, "--load-workers", "1",
                 "--master-bind", f"{MASTER_HOST}:{port}", "--workers-wait", "2s"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"lagscope: error: 0 of 1 load workers connected to {MASTER_HOST}:{port} within 2s; "
        f"start 'lagscope loadgen --master {MASTER_HOST}:{port}' on each load host, or lower "
        "--load-workers"
    )
