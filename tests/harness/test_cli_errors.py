"""Bad input gets one line that says what to do, exit code 2 and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def lagscope(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lagscope", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--app", "nope"], "neither a built-in app"),
        (["run", "--duraton", "5s"], "arguments: --duraton 5s; did you mean --duration?"),
        (["run", "--app", "myshop.main"], "'package.module:app'; did you mean 'myshop.main:app'?"),
        (["run", "--app", "src/myshop/main.py"], "did you mean 'myshop.main:app'?"),
        (["run", "--app", "no_such_module_xyz:app"], "cannot find module 'no_such_module_xyz'"),
        (["run", "--duration", "ten"], "is not a duration"),
        (["run", "--duration", "0s"], "must be greater than zero"),
        (["run", "--duration", "-5s"], "--duration: '-5s' must be greater than zero"),
        (["run", "--duration", "-5"], "--duration: '-5' must be greater than zero"),
        (["run", "--stall-threshold", "-5ms"], "--stall-threshold: '-5ms' must be greater than"),
        (["run", "--downstream-latency", "-1s"], "--downstream-latency: '-1s' must be greater"),
        (["run", "--duration", "abc"], "e.g. 30s or 2m; a bare number counts as seconds"),
        (["run", "--stall-threshold", "abc"], "a bare number counts as milliseconds"),
        (["run", "--memory-cap", "-1GB"], "--memory-cap: '-1GB' must be greater than zero"),
        (["run", "--fault", "gremlins"], "not a fault of shop; choose from: blocking_io"),
        (
            ["run", "--inject", "loop_block block=1s"],
            "--inject 'loop_block block=1s': loop_block needs every",
        ),
        (
            ["run", "--inject", "dependency_latency host=a latency=9x"],
            "--inject 'dependency_latency host=a latency=9x': latency: '9x' is not a duration",
        ),
        (["run", "--injector", "--no-probe"], "--inject and --injector work through the probe"),
        (["run", "--users", "0"], "--users must be greater than zero"),
        (["run", "--loop", "trio"], "invalid choice: 'trio'"),
        (["run", "--scenario", "nope"], "neither a built-in scenario"),
        (["run", "--stall-threshold", "fast"], "--stall-threshold"),
        (["run", "--app", "json:loads", "--fault", "blocking_io"], "applies to the built-in app"),
        (["run", "--code", "my-lib"], "--code 'my-lib' is not a package's import name"),
        (["run", "--code", "lagscope.harness"], "lagscope's own code is never the user's"),
        (["run", "--code", "no_such_package_xyz"],
         "--code 'no_such_package_xyz': cannot find package 'no_such_package_xyz'"),
        (["gameday", "blocking_deploi"],
         "game day 'blocking_deploi' is neither a game-day file nor a built-in exercise "
         "(blocking_deploy, connection_leak, dependency_slows_down, slow_dependency)"),
        (["gameday"], "name a game day: lagscope gameday NAME|FILE"),
        (["report", "/nonexistent/run"], "not a lagscope run directory"),
        (["run", "--out", "/proc/forbidden"], "/proc does not take new files or directories"),
        (["run", "--out", "/etc/hostname/run"], "/etc/hostname is a file, not a directory"),
        (["run", "--out", "/etc/hostname"], "run directory /etc/hostname is a file"),
        (["run", "--startup-timeout", "0s"], "--startup-timeout: '0s' must be greater than"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(args: list[str], says: str) -> None:
    result = lagscope(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lagscope: error: ")
    assert says in lines[0]


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_sweep_directory_is_named_as_one_with_its_page_and_runs(
    tmp_path: Path, command: str
) -> None:
    sweep = tmp_path / "sweep"
    step = sweep / "points" / "uvicorn-auto-w1" / "01-50rps"
    step.mkdir(parents=True)
    (step / "run.json").write_text("{}")
    (sweep / "sweep.json").write_text("{}")
    (sweep / "sweep.html").write_text("<html></html>")
    args = [str(sweep)] if command == "report" else [str(sweep), str(step)]
    result = lagscope(command, *args)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"lagscope: error: {sweep} is a sweep directory, not a run: ")
    assert f"its results are in {sweep / 'sweep.html'}" in line
    assert f"e.g. lagscope report {step}" in line


def test_a_sweep_that_has_not_ended_says_how_to_finish_it(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text("{}")
    result = lagscope("report", str(tmp_path))
    assert result.returncode == 2
    assert f"written when it ends (lagscope sweep --resume {tmp_path})" in result.stderr
    assert "e.g." not in result.stderr  # no step ran yet: no run to point to


def test_an_existing_run_directory_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    result = lagscope("run", "--out", str(out), "--duration", "1s")
    assert result.returncode == 2
    # One line, and no "running ..." banner before it: nothing had started.
    assert result.stderr.splitlines() == [
        f"lagscope: error: run directory {out} already exists and is not empty; "
        "choose another --out"
    ]
    assert (out / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


APP_MODULES = {
    "notasgi.py": "app = 42\n",
    "factory.py": "from fastapi import FastAPI\nApp = FastAPI\ndef make(settings):\n"
    "    return FastAPI()\ndef create_broken():\n    raise KeyError('DB_URL')\n"
    "def create_nothing():\n    return None\n",
    "broken.py": "raise RuntimeError('config missing: DB_URL')\n",
    "settings.py": "from pydantic import BaseModel\nclass Settings(BaseModel):\n"
    "    database_url: str\n    secret_key: str\nSettings()\n",
    "localized.py": "import locale\nraise locale.Error('unsupported locale setting')\n",
    "needs.py": "import no_such_dependency_xyz\n",
    "chatty.py": "import sys\nprint('hello from the app')\nsys.stdout = None\napp = 'x'\n",
}


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ("notasgi:app",
         "'notasgi:app' is not an ASGI app (got int); point --app at your FastAPI() instance"),
        ("factory:App", "'factory:App' is not an ASGI app (got the class FastAPI); point --app"),
        ("factory:make",
         "'factory:make' is not an ASGI app (got make(), which does not take "
         "(scope, receive, send)); point --app at your FastAPI() instance, or at a function "
         "that takes no arguments and returns it"),
        ("factory:create_broken",
         "--app 'factory:create_broken': calling the app factory create_broken() failed with "
         "KeyError: 'DB_URL'"),
        ("factory:create_nothing",
         "'factory:create_nothing': the app factory create_nothing() returned NoneType, not an "
         "ASGI app; make it return your FastAPI() instance"),
        ("notasgi:application",
         "--app 'notasgi:application': module 'notasgi' has no attribute 'application'; "
         "point --app at your FastAPI() instance"),
        ("broken:app",
         "--app 'broken:app': importing 'broken' failed with RuntimeError: config missing: "
         f"DB_URL; run {sys.executable} -c 'import broken' from this folder to see the "
         "traceback"),
        ("settings:app",
         "importing 'settings' failed with ValidationError: 2 validation errors for Settings "
         "(database_url: Field required, secret_key: Field required)"),
        ("localized:app", "importing 'localized' failed with locale.Error: unsupported locale"),
        ("needs:app",
         "importing 'needs' failed with ModuleNotFoundError: No module named "
         "'no_such_dependency_xyz'"),
        ("chatty:app", "'chatty:app' is not an ASGI app (got str)"),
    ],
)  # fmt: skip
def test_an_app_that_is_not_an_asgi_app_is_one_line_before_anything_starts(
    tmp_path: Path, app: str, message: str
) -> None:
    for name, source in APP_MODULES.items():
        (tmp_path / name).write_text(source)
    result = lagscope("run", "--app", app, "--duration", "2s", "--out", "r", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()  # no banner, no traceback
    assert line.startswith("lagscope: error: ")
    assert message in line
    assert "http" not in line  # no library's documentation link
    assert not (tmp_path / "r").exists()  # nothing started, nothing written


def test_a_src_layout_not_installed_is_told_how_to_import_it(tmp_path: Path) -> None:
    (tmp_path / "src" / "myshop").mkdir(parents=True)
    (tmp_path / "src" / "myshop" / "__init__.py").write_text("")
    (tmp_path / "src" / "myshop" / "main.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n"
    )
    result = lagscope("run", "--app", "myshop.main:app", "--out", "r", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "lagscope: error: --app 'myshop.main:app': cannot find module 'myshop'; it is under "
        "src/: run with PYTHONPATH=src, or pip install -e . first"
    ]


def test_an_app_without_an_openapi_schema_is_told_to_pass_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "hidden.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n"
    )
    result = lagscope("run", "--app", "hidden:app", "--duration", "2s", "--out", "r",
                      cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    error = result.stderr.splitlines()[-1]
    assert error == (
        "lagscope: error: the app answered HTTP 404 to GET /openapi.json; there is no schema to "
        "take operations from; pass --scenario with a locustfile"
    )
    # The app had started, so the run directory exists: it says the same, not "see
    # logs/locust.log" (no load generator ever ran).
    report = lagscope("report", "r", cwd=tmp_path)
    assert (
        "CRITICAL no_requests at events.jsonl\n  The run was refused before any load was sent: "
        "the app answered HTTP 404 to GET /openapi.json"
    ) in report.stdout, report.stdout + report.stderr


def test_apps_lists_the_faults_of_shop() -> None:
    result = lagscope("apps")
    assert result.returncode == 0
    assert "blocking_io" in result.stdout
    assert "event_loop_blocking" in result.stdout


@pytest.mark.parametrize("command", ["run", "report", "apps", "sweep", "compare", "gameday"])
def test_every_command_has_help(command: str) -> None:
    result = lagscope(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: lagscope" in result.stdout
