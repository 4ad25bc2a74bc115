"""A recorded stall's stack, folded for a reader (the reports and the test plugin alike)."""

from __future__ import annotations

from typing import Any

from lagscope.stalls import short_stack


def _frames(spec: str) -> list[list[Any]]:
    """``"llluul"``: one frame per letter, outermost first; u is user code, l a library."""
    return [[f"f{i}.py", i, f"fn{i}", kind == "u"] for i, kind in enumerate(spec)]


def test_a_short_stack_starts_at_the_caller_of_the_user_code() -> None:
    lines = short_stack(_frames("l" * 30 + "uu" + "l"))
    assert lines == [
        "… 29 frames of the server and framework …",
        "f29.py:29 in fn29", "f30.py:30 in fn30", "f31.py:31 in fn31", "f32.py:32 in fn32",
    ]  # fmt: skip


def test_a_long_run_of_library_frames_below_the_user_code_is_folded() -> None:
    lines = short_stack(_frames("u" + "l" * 10))
    assert lines[0] == "f0.py:0 in fn0"
    assert lines[1:4] == ["f1.py:1 in fn1", "f2.py:2 in fn2", "f3.py:3 in fn3"]
    assert lines[4] == "… 5 library frames …"
    assert lines[5:] == ["f9.py:9 in fn9", "f10.py:10 in fn10"]


def test_a_stack_without_user_code_keeps_its_innermost_frames() -> None:
    lines = short_stack(_frames("l" * 20))
    assert lines[0] == "… 12 frames above …"
    assert lines[1:] == [f"f{i}.py:{i} in fn{i}" for i in range(12, 20)]
    assert short_stack(_frames("ll")) == ["f0.py:0 in fn0", "f1.py:1 in fn1"]


def test_a_long_run_of_library_frames_between_user_frames_keeps_its_ends() -> None:
    # A test (u) calling an app's endpoint (u) through its client and framework (l * 8).
    lines = short_stack(_frames("ll" + "u" + "l" * 8 + "u" + "l"))
    assert lines == [
        "… 1 frame of the server and framework …",
        "f1.py:1 in fn1", "f2.py:2 in fn2",
        "f3.py:3 in fn3", "… 6 library frames …", "f10.py:10 in fn10",
        "f11.py:11 in fn11", "f12.py:12 in fn12",
    ]  # fmt: skip


def test_a_short_run_between_user_frames_is_shown_whole() -> None:
    assert short_stack(_frames("ullu")) == [
        "f0.py:0 in fn0", "f1.py:1 in fn1", "f2.py:2 in fn2", "f3.py:3 in fn3",
    ]  # fmt: skip
