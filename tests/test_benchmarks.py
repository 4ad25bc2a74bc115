"""The benchmark scripts still run (on tiny inputs): they print figures, they assert no timing.

They are run by hand for the figures quoted in notes and the README; this keeps them from
rotting when the code they drive changes (report_1m once stopped running unnoticed).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_report_benchmark_prints_wall_time_and_peak_memory() -> None:
    # The script exits 1 over its time budget; on a tiny input that only says how busy the
    # machine is, so the smoke run judges the figures line, not the clock (no timed tests).
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "report_1m.py"), "--rows", "2000"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = done.stdout
    assert re.search(r"lagscope report on 2,000 requests: [\d.]+ s wall, peak RSS \d+ MB", out), (
        out + done.stderr[-2000:]
    )


def test_probe_cpu_benchmark_prints_the_probes_own_cpu() -> None:
    out = run("probe_cpu.py", "--seconds", "1")
    assert re.search(
        r"uvloop: probe costs [\d.]+ ms of CPU per second \([\d.]+% of one core\)", out
    ), out


def test_session_hook_benchmark_prints_the_cost_per_session() -> None:
    out = run("session_hook.py", "--sessions", "50", "--rounds", "1")
    assert re.search(r"session \+ one query: [\d.]+ µs without the hook, [\d.]+ µs with it", out)


def test_openapi_generator_benchmark_prints_both_throughputs_and_their_ratio() -> None:
    out = run("openapi_generator.py", "--rounds", "1", "--seconds", "2", "--users", "2")
    assert re.search(r"median +openapi: +\d+ req/s, generator +\d+ µs CPU per request", out), out
    assert re.search(r"median hand-written: +\d+ req/s", out), out
    assert re.search(r"openapi / hand-written throughput: [\d.]+ \([+−-][\d.]+ %\)", out), out


def test_gc_callback_benchmark_prints_the_cost_per_collection() -> None:
    out = run("gc_callback.py", "--collections", "200", "--rounds", "1")
    assert re.search(r"callback alone: [\d.]+ µs per collection", out), out
    assert re.search(
        r"young collection: [\d.]+ µs without a callback, [\d.]+ µs with an empty", out
    )


def test_pytest_plugin_benchmark_prints_the_cost_per_test() -> None:
    out = run("pytest_plugin.py", "--tests", "20", "--rounds", "1")
    assert re.search(r"--lagscope +CPU +[\d.]+ s \([+-][\d.]+ s, [+-][\d.]+ ms per test\)", out)


@pytest.mark.e2e
def test_inject_overhead_benchmark_prints_the_paired_ratios() -> None:
    out = run("inject_overhead.py", "--rounds", "1", "--window", "1", "--users", "4")
    assert re.search(r"dispatch \d+ ns per request without the injector", out), out
    assert re.search(
        r"paired rounds \(injector vs probe alone\): throughput [+-][\d.]+% \(median", out
    ), out


@pytest.mark.e2e
def test_probe_overhead_benchmark_prints_both_sides_of_each_round() -> None:
    out = run("probe_overhead.py", "--rounds", "1", "--window", "1", "--users", "4")
    assert re.search(r"round 1 shop: bare +[\d.]+ req/s .* probe +[\d.]+ req/s", out), out
    assert re.search(r"CPU per request [+-][\d.]+% \(median [+-][\d.]+%, budget 1.5%\)", out)


@pytest.mark.e2e
def test_generator_benchmark_runs_both_generators_together_and_counts_every_row() -> None:
    out = run("generator_vs_locust.py", "--rounds", "1", "--duration", "1", "--users", "4")
    assert re.search(r"round 1 together: Locust +[\d.]+ req/s .* lagscope +[\d.]+ req/s", out)
    assert re.search(r"paired throughput ratios \(lagscope / Locust\), together: [\d.]+", out)


@pytest.mark.e2e
def test_probe_parts_prints_each_part_timed_inside_the_loaded_worker() -> None:
    out = run("probe_parts.py", "--seconds", "2", "--connections", "4")
    assert re.search(r"trivial app under wrk \(4 connections, 2 s\): \d+ responses/s", out), out
    # The beat ran about 100 times a second under load, and each part it holds was timed
    # inside it: the wrappers reached the worker's probe, not a copy of it.
    beats = re.search(r"^beat +([\d.]+) +([\d.]+) +([\d.]+)$", out, re.MULTILINE)
    assert beats is not None, out
    assert 20 <= float(beats.group(2)) <= 110, out
    schedstat = re.search(r"^  beat: schedstat read +[\d.]+ +([\d.]+) ", out, re.MULTILINE)
    # (one apart at most: the totals may be read inside a beat, between the two counts)
    assert schedstat is not None, out
    assert abs(float(schedstat.group(1)) - float(beats.group(2))) <= 1.0, out
    assert re.search(r"^gauge sample +[\d.]+ +[\d.]+ +[\d.]+$", out, re.MULTILINE), out


@pytest.mark.e2e
def test_probe_parts_times_the_shops_worker_and_its_sqlalchemy_hooks() -> None:
    out = run("probe_parts.py", "--shop", "--seconds", "2", "--users", "4")
    assert "shop at saturation (4 users, 2 s" in out, out
    assert re.search(r"^beat +[\d.]+ +[\d.]+ +[\d.]+$", out, re.MULTILINE), out
    # The shop opens a session per request: the hooks' own share is printed from the
    # sessions and checkouts timed in the worker, with and without them.
    for name in ("session hook (the difference)", "checkout hook (the difference)"):
        row = re.search(rf"^{re.escape(name)} +-?[\d.]+ +([\d.]+) +-?[\d.]+$", out, re.MULTILINE)
        assert row is not None, out
        assert float(row.group(1)) > 0, out


@pytest.mark.e2e
def test_probe_overhead_under_wrk_prints_both_servers_of_each_round() -> None:
    out = run("probe_overhead.py", "--wrk", "--rounds", "1", "--window", "1", "--connections", "4")
    assert re.search(
        r"round 1 trivial app under wrk \(4 connections a side\): bare +[\d.]+ req/s .* "
        r"probe +[\d.]+ req/s",
        out,
    ), out
    assert re.search(r"CPU per request [+-][\d.]+% \(median [+-][\d.]+%, budget 2%\)", out), out
