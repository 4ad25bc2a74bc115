"""A test's stalls judged and worded; the session's summary (pure functions)."""

from __future__ import annotations

from typing import Any

from lagscope.harness.testing.summary import TestResult, locations, summary_lines, title
from lagscope.harness.testing.verdict import by_location, failure_text, judge


def stall(location: str | None, ms: float, cause: str = "wait") -> dict[str, Any]:
    frames = [["test_app.py", 10, "test_it", True], ["<site-packages>/lib.py", 3, "go", False]]
    if location is not None:
        frames.append([location.split(":")[0], int(location.split(":")[1]), "handler", True])
    return {
        "start": 0.0,
        "duration_ms": ms,
        "lag_ms": ms - 5.0,
        "cpu_share": 0.9 if cause == "cpu" else 0.01,
        "cause": cause,
        "location": location,
        "function": "handler" if location else None,
        "stacks": [{"cause": cause, "frames": frames}] if location else [],
    }


def test_a_stall_at_an_allowed_line_or_file_is_allowed_and_no_other() -> None:
    stalls = [stall("app.py:12", 50.0), stall("app.py:30", 40.0), stall("db.py:7", 30.0)]
    verdict = judge(stalls, threshold_ms=20.0, allow=("app.py:12", "db.py"))
    assert [s["location"] for s in verdict.stalls] == ["app.py:30"]
    assert [s["location"] for s in verdict.allowed] == ["app.py:12", "db.py:7"]


def test_a_stall_without_a_location_is_reported_never_judged() -> None:
    verdict = judge([stall(None, 25.0)], threshold_ms=20.0, allow=())
    assert (verdict.stalls, len(verdict.unsampled)) == ([], 1)
    assert verdict.any()


def test_stalls_group_by_location_worst_first() -> None:
    groups = by_location([stall("a.py:1", 30.0), stall("b.py:2", 90.0), stall("a.py:1", 60.0)])
    assert [[s["duration_ms"] for s in group] for group in groups] == [[90.0], [60.0, 30.0]]


def test_the_failure_reads_as_a_finding_with_its_stack_and_remedy() -> None:
    verdict = judge(
        [stall("app.py:12", 104.0, "cpu"), stall("app.py:12", 60.0, "cpu"), stall(None, 22.0)],
        threshold_ms=20.0,
        allow=(),
    )
    assert failure_text(verdict).splitlines() == [
        "lagscope: this test stalled the event loop: 2 stalls over the 20 ms threshold, "
        "164 ms blocked, worst 104 ms",
        "event_loop_blocking at app.py:12 (handler)",
        "  The event loop was blocked computing (CPU-bound) at app.py:12 (handler).",
        "  evidence: 2 stalls over the 20 ms threshold, 164 ms blocked, worst 104 ms; the loop "
        "thread was on a CPU 90% of the time (cpu).",
        "  stack of the worst stall, from the test inward:",
        "    test_app.py:10 in test_it",
        "    <site-packages>/lib.py:3 in go",
        "    app.py:12 in handler",
        "  remedy: Move the CPU-bound work off the event loop: a ProcessPoolExecutor via "
        "`loop.run_in_executor` (pure Python), or a thread for C code that releases the GIL "
        "(hashlib, zlib); or precompute/cache the result.",
        '  known and accepted? @pytest.mark.lagscope(allow=["app.py:12"])',
        "not sampled: 1 stall over the 20 ms threshold, 22 ms blocked, each over before the "
        "watchdog could sample the loop's stack (not judged)",
    ]


def test_the_summary_ranks_locations_and_tests_by_their_worst_stall() -> None:
    results = [
        TestResult("t.py::a", "failed", judge([stall("x.py:1", 40.0)], threshold_ms=20, allow=())),
        TestResult(
            "t.py::b",
            "failed",
            judge([stall("y.py:2", 90.0), stall("x.py:1", 30.0)], threshold_ms=20, allow=()),
        ),
        TestResult("t.py::c", "passed", judge([stall("z.py:3", 99.0)], threshold_ms=20,
                                              allow=("z.py",))),
    ]  # fmt: skip
    assert [(r["location"], r["stalls"], r["tests"]) for r in locations(results)] == [
        ("y.py:2", 1, 1), ("x.py:1", 2, 2)
    ]  # fmt: skip
    lines = summary_lines(results)
    assert lines[0] == "by location, worst stall first:"
    assert lines[3] == "by test, worst stall first:"
    assert [line.split()[3] for line in lines[4:6]] == ["t.py::b:", "t.py::a:"]
    assert lines[6] == "  allowed: t.py::c: 1 at z.py:3"
    assert title(results, watched=5, threshold_ms=20.0) == (
        "lagscope: 2 of 5 watched async tests stalled the event loop over 20 ms"
    )
    assert title([], watched=1, threshold_ms=20.0) == (
        "lagscope: 1 watched async test, none stalled the event loop over 20 ms"
    )


def test_a_stall_that_was_the_machines_is_reported_never_judged() -> None:
    # 45 ms, 30 of them waiting for a CPU: 15 ms of its own, under the 20 ms threshold.
    machine = {**stall("app.py:12", 45.0, cause="cpu"), "cpu_wait_ms": 30.0}
    own = {**stall("app.py:30", 45.0, cause="cpu"), "cpu_wait_ms": 5.0}
    verdict = judge([machine, own], threshold_ms=20.0, allow=())
    assert [s["location"] for s in verdict.stalls] == ["app.py:30"]
    assert verdict.machine == [machine]
    assert "the machine's: 1 stall over the 20 ms threshold" in failure_text(verdict)
