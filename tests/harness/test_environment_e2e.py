"""Fault injection: a run survives its environment (issue 18).

A tiny or filling filesystem, a read-only directory, an app slow to import or failing in its
lifespan, a killed Locust process, two runs at once.  Each case checks the message (one
line: what happened, what was kept, what to do), the exit code, that every file left in the
run directory is readable (``lagscope report`` renders it) and that no process is left.
The filesystem cases mount a tmpfs, as root (CI runs as root; elsewhere they skip).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from lagscope.harness.cli.main import main as lagscope_main

from lagscope import request_spool
from tests.harness.test_lifecycle import processes_of, wait_for_event, wait_until_gone
from tests.interrupt import interruptible
from tests.mounts import as_a_user, fill, needs_root, tmpfs

pytestmark = pytest.mark.e2e
APPS = Path(__file__).resolve().parent / "apps"
BANNERS = ("lagscope: running ", "lagscope: waiting for ", "lagscope: importing ")


def start(
    out: Path | None,
    *args: str,
    cwd: Path | None = None,
    preexec_fn: Callable[[], None] = interruptible,
) -> subprocess.Popen[str]:
    """``lagscope run`` into ``out`` (None: the default, ``runs/...`` under ``cwd``)."""
    where = ["--out", str(out)] if out is not None else []
    return subprocess.Popen(
        [sys.executable, "-m", "lagscope", "run", *where, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        preexec_fn=preexec_fn,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def message(stderr: str) -> str:
    """The one line lagscope ended with (banners and start-up progress left aside)."""
    assert "Traceback" not in stderr, stderr
    said = [line for line in stderr.splitlines() if not line.startswith(BANNERS)]
    said = [line for line in said if not line.startswith("  | ")]  # a server's log, quoted
    assert len(said) == 1, stderr
    return said[0]


def events(out: Path) -> list[dict[str, Any]]:
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def assert_readable(out: Path) -> dict[str, Any]:
    """Every file left reads as what it is, nothing is half-written, and ``lagscope report``
    renders the directory; return the summary it wrote."""
    leftovers = [p.name for p in out.rglob("*") if p.suffix == ".tmp" or p.name == ".reserve"]
    assert leftovers == [], leftovers
    for path in out.rglob("*"):
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        elif path.suffix == ".csv" and path.stat().st_size:
            pd.read_csv(path, on_bad_lines="skip")
    # `lagscope report`, in this process: its imports (pandas, matplotlib) are paid once.
    assert lagscope_main(["report", str(out)]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def kept(out: Path) -> int:
    """Requests on disk: merged, or still in spool parts (when the merge did not fit)."""
    return request_spool.spooled_rows(out)


@contextlib.contextmanager
def greedy_filler(path: Path) -> Iterator[threading.Event]:
    """Fill ``path``'s filesystem and keep taking any space that frees up until the block
    ends (a runaway log writer); yields the event set once the disk is first full."""
    full, stop = threading.Event(), threading.Event()

    def run() -> None:
        with open(path, "ab", buffering=0) as f:
            while not stop.is_set():
                try:
                    f.write(b"\0" * 65536)
                except OSError:
                    full.set()
                    with contextlib.suppress(OSError):
                        f.write(b"\0" * 4096)
                    time.sleep(0.002)

    thread = threading.Thread(target=run, name="greedy-filler", daemon=True)
    thread.start()
    try:
        yield full
    finally:
        stop.set()
        thread.join(timeout=10)


# --- the run directory's filesystem -------------------------------------------------------


@needs_root
def test_a_filesystem_too_small_for_the_run_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "fs", size="1m") as fs:
        out = fs / "run"
        proc = start(out, "--duration", "5s")
        _, stderr = finish(proc)
        assert proc.returncode == 2
        line = message(stderr)
        assert line.startswith("lagscope: error: the run needs about ")
        assert f" in {fs} (~5,000 requests, stalls, heartbeats, gauges and the report" in line
        assert line.endswith(
            "free; free space there, shorten --duration, or choose an --out on a filesystem "
            "with more room"
        )
        assert "lagscope: running" not in stderr  # refused before the banner
        assert not out.exists()  # nothing left to read
        assert processes_of(out) == []


@needs_root
def test_a_read_only_run_directory_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", size="4m", read_only=True) as ro:
        proc = start(ro / "run", "--duration", "5s")
        _, stderr = finish(proc)
    assert proc.returncode == 2
    assert message(stderr) == (
        f"lagscope: error: cannot create the run directory {ro}/run: {ro} is on a read-only "
        "filesystem; choose an --out on a writable filesystem"
    )
    assert processes_of(ro / "run") == []


@needs_root
def test_a_run_directory_it_may_not_write_is_one_line_before_anything_starts(
    tmp_path: Path,
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    out = locked / "run"
    proc = start(out, "--duration", "5s", preexec_fn=as_a_user)
    _, stderr = finish(proc)
    assert proc.returncode == 2
    assert message(stderr) == (
        f"lagscope: error: cannot create the run directory {out}: no permission to write in "
        f"{locked}; choose an --out you can write to, or change the permissions of {locked}"
    )
    assert not out.exists()
    assert processes_of(out) == []


@needs_root
def test_space_running_low_stops_the_load_and_the_run_ends_with_its_report(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "fs", size="64m") as fs:
        out = fs / "run"
        proc = start(out, "--duration", "60s", "--users", "5")
        wait_for_event(out, "spawning_complete", timeout=120)
        time.sleep(1.5)
        fill(fs / "ballast", leave=400_000)  # another program filled the disk
        stdout, stderr = finish(proc)
        assert proc.returncode == 3
        line = message(stderr)
        assert line.startswith("lagscope: the run stopped "), line
        assert " s into the 60 s load: free space on " in line
        assert f"; kept: {kept(out):,} requests and the report of what was collected" in line
        assert line.endswith("free space there, or choose another --out, and run again")
        assert "self-check: The run was stopped " in stdout
        (low,) = [e for e in events(out) if e["event"] == "disk_low"]
        assert low["free"] < low["floor"]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["run"]["outcome"] == "disk_full"
        assert summary["environment"]["stopped"]["after_s"] < 30  # stopped, not run out
        assert kept(out) > 0
        assert wait_until_gone(out) == []
        (fs / "ballast").unlink()
        assert assert_readable(out)["run"]["outcome"] == "disk_full"


@needs_root
def test_a_disk_that_stays_full_ends_the_run_without_a_traceback(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", size="64m") as fs:
        out = fs / "run"
        proc = start(out, "--duration", "60s", "--users", "5")
        wait_for_event(out, "spawning_complete", timeout=120)
        time.sleep(1.5)
        with greedy_filler(fs / "ballast") as full:  # it takes the room the run frees, too
            assert full.wait(timeout=30)
            _, stderr = finish(proc)
        assert proc.returncode == 3
        line = message(stderr)
        assert line.startswith("lagscope: the run "), line
        assert f"; kept: {kept(out):,} requests " in line
        assert "free space there" in line
        for parquet in out.rglob("*.parquet"):  # whole or absent, never half-written
            pd.read_parquet(parquet)
        assert wait_until_gone(out) == []
        (fs / "ballast").unlink()
        summary = assert_readable(out)
        assert summary["run"]["outcome"] == "disk_full"
        assert (
            summary["requests"]["aggregate"]["count"] + summary["window"]["requests_outside"]
            == kept(out)
            > 0
        )


# --- start-up -----------------------------------------------------------------------------


def test_a_slow_start_up_is_waited_for_with_progress_up_to_the_startup_timeout(
    tmp_path: Path,
) -> None:
    # An app that takes 13 s to import, run twice at once (both mostly wait): with the
    # default --startup-timeout it is waited for and measured; with 5 s it is one line.
    slow, short = tmp_path / "slow", tmp_path / "short"
    procs = [
        start(slow, "--app", "sleepy.app:app", "--duration", "3s", "--users", "2", cwd=APPS),
        start(short, "--app", "sleepy.app:app", "--startup-timeout", "5s", cwd=APPS),
    ]
    try:
        _, stderr = finish(procs[1])
        assert procs[1].returncode == 2
        assert message(stderr) == (
            "lagscope: error: the target server did not answer within 5s (--startup-timeout): "
            f"it logged nothing; nothing was measured, its log is kept ({short}/logs/target.log);"
            " if it loads something big at start, raise --startup-timeout"
        )
        assert wait_until_gone(short) == []
        assert [f["kind"] for f in assert_readable(short)["diagnosis"]] == ["no_requests"]

        _, stderr = finish(procs[0])
        assert procs[0].returncode == 0, stderr
        assert "Traceback" not in stderr
        assert "lagscope: importing 'sleepy.app' takes over 10 s" in stderr
        waits = [line for line in stderr.splitlines() if line.startswith("lagscope: waiting")]
        assert waits, stderr
        assert waits[0].startswith("lagscope: waiting for the target server to start: ")
        assert waits[0].endswith(" of at most 180 s (--startup-timeout)")
        assert wait_until_gone(slow) == []
        assert assert_readable(slow)["requests"]["aggregate"]["count"] > 0
    finally:
        for proc in procs:  # a failed assertion: stop the other run as Ctrl-C does
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                finish(proc, timeout=60)


def test_an_app_failing_in_its_lifespan_is_reported_with_its_logs_last_lines(
    tmp_path: Path,
) -> None:
    # It imports (the check before the banner passes); its start-up fails in the server.
    out = tmp_path / "run"
    proc = start(out, "--app", "failing.app:app", "--duration", "3s", cwd=APPS)
    _, stderr = finish(proc)
    assert proc.returncode == 2
    assert message(stderr) == (
        "lagscope: error: the target server exited during start-up (exit code 3): "
        "RuntimeError: config missing: DB_URL; nothing was measured, its log is kept "
        f"({out}/logs/target.log, last lines below); fix what its log says and run again"
    )
    tail = [line for line in stderr.splitlines() if line.startswith("  | ")]
    assert tail[-2:] == [
        "  | RuntimeError: config missing: DB_URL",
        "  | ERROR:    Application startup failed. Exiting.",
    ]
    assert (out / "logs" / "target.log").is_file()  # the evidence is kept
    assert wait_until_gone(out) == []
    assert_readable(out)


# --- the load generator -------------------------------------------------------------------


def locust_processes(out: Path) -> list[psutil.Process]:
    return [p for p in processes_of(out) if "locust" in " ".join(p.cmdline())]


def test_a_killed_locust_worker_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start(out, "--duration", "12s", "--users", "6", "--load-procs", "2")
    wait_for_event(out, "spawning_complete", timeout=120)
    time.sleep(1.0)
    pids = {p.pid for p in locust_processes(out)}
    (worker, _) = [p for p in locust_processes(out) if p.ppid() in pids]
    worker.kill()
    stdout, stderr = finish(proc)
    assert proc.returncode == 3
    line = message(stderr)
    assert line.startswith(
        f"lagscope: load-generator process {worker.pid} (a Locust worker) died "
    ), line
    assert " s into the 12 s load; kept: its " in line
    assert line.endswith(
        f"the other processes ran on, and the report ({out}/report.html); see "
        f"{out}/logs/locust.log and run again for the full load"
    )
    assert f"self-check: Load-generator process {worker.pid} (a Locust worker) died" in stdout
    (died,) = [e for e in events(out) if e["event"] == "load_generator_died"]
    assert died["pid"] == worker.pid
    summary = assert_readable(out)
    assert summary["run"]["outcome"] == "completed"  # the rest of the run went to its end
    requests = pd.read_parquet(out / "requests.parquet")
    assert (requests["pid"] == worker.pid).sum() > 0  # what it sent is kept
    assert requests.loc[requests["pid"] != worker.pid, "t"].max() > died["at"] + 2
    assert wait_until_gone(out) == []


def test_a_killed_locust_ends_the_load_and_keeps_what_it_sent(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start(out, "--duration", "30s", "--users", "5")
    wait_for_event(out, "spawning_complete", timeout=120)
    time.sleep(1.5)
    (locust,) = locust_processes(out)
    os.kill(locust.pid, signal.SIGKILL)
    stdout, stderr = finish(proc)
    assert proc.returncode == 3
    line = message(stderr)
    assert line.startswith(
        f"lagscope: the load generator (Locust, pid {locust.pid}) was killed by SIGKILL "
    ), line
    assert f"; kept: its {kept(out):,} requests until then, the run ended there" in line
    assert line.endswith(
        f"and the report ({out}/report.html); see {out}/logs/locust.log and run again for "
        "the full load"
    )
    assert f"self-check: The load generator (Locust, pid {locust.pid}) was killed" in stdout
    summary = assert_readable(out)
    assert summary["run"]["outcome"] == "load_died"
    assert kept(out) > 0
    assert wait_until_gone(out) == []


# --- two runs at once ---------------------------------------------------------------------


def test_two_runs_at_once_keep_apart_and_each_says_the_machine_was_shared(
    tmp_path: Path,
) -> None:
    # Both with the default --out, started together: most often in the same second.
    procs = [start(None, "--duration", "8s", "--users", "5", cwd=tmp_path) for _ in range(2)]
    for proc in procs:
        _, stderr = finish(proc)
        assert proc.returncode == 0, stderr
    outs = sorted((tmp_path / "runs").iterdir())
    assert len(outs) == 2  # a directory each
    urls = {next(e["url"] for e in events(out) if e["event"] == "target_ready") for out in outs}
    assert len(urls) == 2  # each its own port
    summaries = [assert_readable(out) for out in outs]
    for summary, other in zip(summaries, reversed(outs), strict=True):
        shared = [w for w in summary["self_checks"] if w["kind"] == "machine_shared"]
        assert shared, summary["self_checks"]
        assert str(other.resolve()) in shared[0]["message"]
        assert summary["requests"]["aggregate"]["count"] > 0
    for out in outs:
        assert wait_until_gone(out) == []
