"""The openapi scenario end to end, with no configuration: real uvicorn, real Locust."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lagscope.harness.cli.main import main
from lagscope.reports.summary_types import Summary

from tests.reports.summary_shape import shape_errors

APPS = Path(__file__).resolve().parent / "apps"
pytestmark = pytest.mark.e2e


def lagscope_run(out: Path, *args: str) -> dict[str, Any]:
    code = main(["run", "--out", str(out), "--duration", "5s", "--users", "10", *args])
    assert code == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    assert shape_errors(summary, Summary) == []
    return summary


def line_of(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if marker in line)


def test_with_no_configuration_every_get_is_exercised_mostly_2xx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)
    shutil.rmtree(APPS / ".hypothesis", ignore_errors=True)  # a cache left by older versions
    summary = lagscope_run(tmp_path / "run", "--app", "catalog.app:app")
    assert not (APPS / ".hypothesis").exists()  # generation leaves nothing in the user's folder
    cov = summary["scenario"]["coverage"]
    assert (cov["found"], cov["exercised"]) == (15, 11)
    assert {s["key"] for s in cov["skipped"]} == {
        "POST /items", "PUT /items/{item_id}", "DELETE /items/{item_id}", "POST /orders",
    }  # fmt: skip
    for key, op in cov["operations"].items():
        assert key.startswith("GET ")
        assert op["requests"] >= 3, (key, op)
        assert op["5xx"] == op["no_response"] == 0, (key, op)
        # ids are linked: items start at 1001, beyond what is generated for an integer
        assert op["2xx"] >= 0.8 * op["requests"], (key, op)
    assert summary["requests"]["endpoints"].keys() >= {
        "GET /items/{item_id}", "GET /items/{item_id}/reviews/{review_id}", "GET /users/{user_id}",
    }  # fmt: skip
    assert (tmp_path / "run" / "openapi-plan.json").is_file()
    assert (tmp_path / "run" / "openapi.json").is_file()
    assert "Coverage (openapi scenario)" in (tmp_path / "run" / "report.html").read_text()


def test_with_every_method_every_operation_is_exercised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)
    summary = lagscope_run(tmp_path / "run", "--app", "catalog.app:app", "--methods", "all")
    cov = summary["scenario"]["coverage"]
    assert (cov["found"], cov["exercised"], cov["skipped"]) == (15, 15, [])
    ops = cov["operations"]
    for key, op in ops.items():
        assert op["requests"] >= 2, (key, op)
        assert op["2xx"] >= 1, (key, op)
        assert op["5xx"] == op["no_response"] == 0, (key, op)
    assert ops["POST /items"]["2xx"] == ops["POST /items"]["requests"]
    assert ops["POST /orders"]["2xx"] == ops["POST /orders"]["requests"]
    gets = [op for key, op in ops.items() if key.startswith("GET ")]
    assert sum(op["2xx"] for op in gets) >= 0.8 * sum(op["requests"] for op in gets)


def test_a_blocker_behind_a_real_id_is_found_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)
    summary = lagscope_run(tmp_path / "run", "--app", "catalog.things:app")
    line = line_of(APPS / "catalog/things.py", "BLOCKS: render")
    blocking = [f for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"]
    assert blocking, summary["diagnosis"]
    assert blocking[0]["location"] == f"catalog/things.py:{line}"
    assert blocking[0]["endpoint"] == "GET /things/{thing_id}/render"
    render = summary["scenario"]["coverage"]["operations"]["GET /things/{thing_id}/render"]
    assert render["2xx"] >= 0.8 * render["requests"]


def test_headers_reach_the_app_and_are_recorded_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS)
    token = "lagscope-test-token"  # catalog/things.py: TOKEN
    out = tmp_path / "run"
    summary = lagscope_run(
        out, "--app", "catalog.things:app", "--duration", "3s",
        "--header", f"Authorization: Bearer {token}", "--weights", "GET /me=4,/things=0",
    )  # fmt: skip
    cov = summary["scenario"]["coverage"]
    me = cov["operations"]["GET /me"]
    assert me["2xx"] == me["requests"] > 0
    assert {"key": "GET /things", "reason": "weight 0 (--weights)"} in cov["skipped"]
    config = json.loads((out / "run.json").read_text())["config"]
    assert config["headers"] == [["Authorization", "Bearer ***"]]
    assert config["methods"] is None  # not given: the plan chose GET and HEAD
    assert config["weights"] == {"GET /me": 4.0, "/things": 0.0}
    leaked = [p for p in out.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert leaked == []


def run_in(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``lagscope run`` in a child process from ``folder`` (its stderr is what a user reads)."""
    result = subprocess.run(
        [sys.executable, "-m", "lagscope", "run", "--duration", "3s", "--users", "4",
         "--out", "r", *args],
        capture_output=True, text=True, timeout=180, cwd=folder,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    summary_file = folder / "r" / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    return result, summary


def test_an_app_with_only_writes_is_sent_them_and_told_so(tmp_path: Path) -> None:
    (tmp_path / "inbox.py").write_text(
        "from fastapi import FastAPI\nfrom pydantic import BaseModel, Field\napp = FastAPI()\n"
        "class Message(BaseModel):\n    to: str = Field(min_length=1)\n    priority: int = 1\n"
        "@app.post('/messages', status_code=201)\n"
        "async def post(message: Message) -> Message:\n    return message\n"
        "@app.post('/drafts')\nasync def draft() -> dict[str, bool]:\n    return {'ok': True}\n"
    )
    result, summary = run_in(tmp_path, "--app", "inbox:app")
    assert result.returncode == 0, result.stderr
    choice = (
        "the schema has no GET or HEAD operation, so its 2 operations (POST) are sent; "
        "pass --methods to choose"
    )
    assert f"lagscope: {choice}" in result.stderr.splitlines()
    cov = summary["scenario"]["coverage"]
    assert (cov["methods"], cov["choice"], cov["exercised"]) == (["POST"], choice, 2)
    for key, op in cov["operations"].items():
        assert op["requests"] >= 2, (key, op)
        assert op["2xx"] == op["requests"], (key, op)
    assert f"sent without --methods: {choice}" in result.stdout
    # An explicit --methods still wins: GET only, and there is none.
    refused, _ = run_in(tmp_path, "--app", "inbox:app", "--methods", "GET", "--out", "r2")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "lagscope: error: inbox:app: 2 operations, all POST: pass --methods POST to send them"
    )


def test_an_app_without_operations_is_loaded_through_its_pages(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "site.css").write_text("body { margin: 0 }")
    (tmp_path / "pages.py").write_text(
        "from fastapi import FastAPI, WebSocket\nfrom fastapi.responses import HTMLResponse\n"
        "from fastapi.staticfiles import StaticFiles\napp = FastAPI()\n"
        "@app.get('/', include_in_schema=False, response_class=HTMLResponse)\n"
        "async def home() -> str:\n    return '<h1>chat</h1>'\n"
        "@app.websocket('/ws/{room}')\nasync def ws(websocket: WebSocket, room: str) -> None: ...\n"
        "app.mount('/assets', StaticFiles(directory='assets'), name='assets')\n"
    )
    result, summary = run_in(tmp_path, "--app", "pages:app")
    assert result.returncode == 0, result.stderr
    choice = (
        "the schema has no operation, so the 1 GET route and 1 static file the app serves "
        "outside it (/, /assets/site.css) are sent"
    )
    assert f"lagscope: {choice}" in result.stderr.splitlines()
    cov = summary["scenario"]["coverage"]
    assert (cov["found"], cov["choice"]) == (0, choice)
    assert cov["operations"].keys() == {"GET /", "GET /assets/site.css"}
    for key, op in cov["operations"].items():
        assert op["requests"] >= 2, (key, op)
        assert op["2xx"] == op["requests"], (key, op)


def test_an_app_with_nothing_http_to_send_is_refused_naming_what_it_serves(
    tmp_path: Path,
) -> None:
    (tmp_path / "chat.py").write_text(
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\n"
        "@app.websocket('/ws/{room}')\nasync def ws(websocket: WebSocket, room: str) -> None: ...\n"
    )
    result, _ = run_in(tmp_path, "--app", "chat:app")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "lagscope: error: chat:app: nothing to load: its OpenAPI schema has no operation and "
        "outside it the app serves only 1 WebSocket route (/ws/{room}), nothing lagscope can "
        "send; pass --scenario with a locustfile"
    )
