from __future__ import annotations

import sys
from pathlib import Path

from lagscope.harness.probe.frames import FrameFilter, capture

ROOT = Path("/srv/app")
STDLIB = str(Path(sys.modules["os"].__file__ or "").resolve())
HARNESS = str(Path(__file__).resolve().parents[3] / "harness/probe/watchdog.py")


def make_filter() -> FrameFilter:
    return FrameFilter.for_root(ROOT)


def test_user_frames_are_under_the_root_and_not_libraries() -> None:
    f = make_filter()
    assert f.is_user("/srv/app/shop/orders.py")
    assert not f.is_user("/srv/other/thing.py")
    assert not f.is_user("/srv/app/.venv/lib/python3.11/site-packages/httpx/_client.py")
    assert not f.is_user(STDLIB)


def test_blame_is_the_innermost_user_frame() -> None:
    stack = (
        ("/srv/app/main.py", 10, "endpoint"),
        ("/srv/app/helpers.py", 20, "fetch"),
        ("/usr/lib/python3.11/urllib/request.py", 200, "urlopen"),
        (STDLIB, 5, "read"),
    )
    frame, is_user = make_filter().blame(stack)
    assert frame == ("/srv/app/helpers.py", 20, "fetch")
    assert is_user


def test_without_user_code_blame_falls_back_to_the_innermost_foreign_frame() -> None:
    stack = ((STDLIB, 1, "run"), ("/x/site-packages/lib.py", 9, "work"), (HARNESS, 3, "run"))
    frame, is_user = make_filter().blame(stack)
    assert frame == ("/x/site-packages/lib.py", 9, "work")
    assert not is_user


def test_paths_are_reported_relative_to_the_root() -> None:
    assert make_filter().relative("/srv/app/shop/orders.py") == "shop/orders.py"
    assert make_filter().relative("/elsewhere/x.py") == "/elsewhere/x.py"


def test_library_paths_are_named_by_library_not_by_where_python_lives() -> None:
    f = make_filter()
    assert f.relative(STDLIB) == "<stdlib>/os.py"
    venv = "/srv/app/.venv/lib/python3.11/site-packages/sqlalchemy/orm/state.py"
    assert f.relative(venv) == "<site-packages>/sqlalchemy/orm/state.py"
    # The interpreter's own site-packages lies under its stdlib directory: the longer wins.
    import httpx  # noqa: PLC0415  (any installed package)

    assert f.relative(str(Path(httpx.__file__).resolve())) == "<site-packages>/httpx/__init__.py"


def test_capture_lists_frames_outermost_first() -> None:
    def inner() -> tuple[tuple[str, int, str], ...]:
        return capture(sys._getframe())[0]

    stack = inner()
    assert stack[-1][2] == "inner"
    assert stack[-2][2] == "test_capture_lists_frames_outermost_first"
