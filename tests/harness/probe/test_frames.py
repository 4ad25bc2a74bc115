from __future__ import annotations

import sys
from pathlib import Path

import pytest
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


def make_package(root: Path, name: str, *modules: str) -> Path:
    """``root/name/`` with an ``__init__.py`` and ``modules`` (dotted paths inside it)."""
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for module in modules:
        path = package.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text("")
    return package


def test_an_app_installed_in_site_packages_is_the_users_code_named_from_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "venv/lib/python3.11/site-packages"
    mysvc = make_package(site, "mysvc", "api.orders")
    other = make_package(site, "otherlib", "client")
    monkeypatch.syspath_prepend(str(site))
    f = FrameFilter.for_app("mysvc.api.orders")
    orders = str(mysvc / "api/orders.py")
    assert f.is_user(orders)
    assert f.relative(orders) == "mysvc/api/orders.py"
    assert not f.is_user(str(other / "client.py"))
    assert f.relative(str(other / "client.py")) == "<site-packages>/otherlib/client.py"
    stack = ((orders, 88, "create_order"), (str(other / "client.py"), 12, "send"))
    assert f.blame(stack) == ((orders, 88, "create_order"), True)  # the calling line


def test_code_packages_are_the_users_too_wherever_they_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    shared = make_package(site, "acme", "shared.db")
    app = make_package(tmp_path / "src", "mysvc", "main")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    plain = FrameFilter.for_app("mysvc.main")
    with_code = FrameFilter.for_app("mysvc.main", code=["acme.shared"])
    db = str(shared / "shared/db.py")
    assert plain.relative(str(app / "main.py")) == with_code.relative(str(app / "main.py"))
    assert plain.relative(str(app / "main.py")) == "mysvc/main.py"  # src/ layout
    assert not plain.is_user(db)
    assert with_code.is_user(db)
    assert with_code.relative(db) == "acme/shared/db.py"
    assert not with_code.is_user(str(shared / "__init__.py"))  # only the package named


def test_a_top_level_module_app_has_its_folder_as_the_users_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text("")
    (project / "helpers.py").write_text("")
    venv = project / ".venv/lib/python3.11/site-packages/httpx/_client.py"
    monkeypatch.syspath_prepend(str(project))
    f = FrameFilter.for_app("main")
    assert f.is_user(str(project / "helpers.py"))
    assert f.relative(str(project / "helpers.py")) == "helpers.py"
    assert not f.is_user(str(venv))
    assert f.relative(str(venv)) == "<site-packages>/httpx/_client.py"


def test_for_the_built_in_app_only_its_own_package_is_the_users_code() -> None:
    import lagscope.target_apps.shop.faults.blocking_io as seeded
    from lagscope.harness.probe import watchdog

    f = FrameFilter.for_app("lagscope.target_apps.shop.app")
    # The same name in a checkout (target_apps/ at the top) as installed (inside lagscope/).
    assert f.relative(seeded.__file__) == "target_apps/shop/faults/blocking_io.py"
    assert f.is_user(seeded.__file__)
    assert not f.is_user(watchdog.__file__)
    assert f.kind(watchdog.__file__) == "lagscope"
    assert f.relative(watchdog.__file__) == "<lagscope>/harness/probe/watchdog.py"


def test_lagscope_is_never_the_users_code_for_an_app_of_the_users() -> None:
    import lagscope.target_apps.downstream as downstream

    import lagscope.app_import

    f = FrameFilter.for_app("tests.harness.probe.test_frames")
    assert f.is_user(__file__)
    assert f.relative(__file__) == "tests/harness/probe/test_frames.py"
    for module in (lagscope.app_import, downstream):
        assert not f.is_user(module.__file__ or "")
    assert f.relative(lagscope.app_import.__file__ or "") == "<lagscope>/app_import.py"
    stack = ((__file__, 3, "test"), (str(Path(downstream.__file__ or "")), 9, "charge"))
    assert f.blame(stack) == ((__file__, 3, "test"), True)
    assert FrameFilter.for_app("lagscope.harness.cli.main").places == FrameFilter.build().places


def test_a_namespace_package_is_the_users_in_each_of_its_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for part in ("one", "two"):
        folder = tmp_path / part / "spread"
        folder.mkdir(parents=True)
        (folder / f"{part}.py").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path / part))
    f = FrameFilter.for_app("spread.one")
    for part in ("one", "two"):
        path = str(tmp_path / part / "spread" / f"{part}.py")
        assert f.is_user(path)
        assert f.relative(path) == f"spread/{part}.py"
