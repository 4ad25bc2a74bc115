"""The shop's fault switch: off without the harness's token, guarded by it when on."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from lagscope.target_apps.shop import faults
from lagscope.target_apps.shop.admin import PATH, TOKEN_ENV
from lagscope.target_apps.shop.app import app
from lagscope.target_apps.shop.fault_switch import FILE_ENV

TOKEN = "per-run-secret"


def call(method: str, *, token: str | None = None, json: object = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            return await client.request(method, PATH, headers=headers, json=json)

    return asyncio.run(go())


@pytest.fixture(autouse=True)
def _restore_faults(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delenv(FILE_ENV, raising=False)  # this worker only, unless a test says so
    before = set(faults.enabled)
    yield
    faults.set_enabled(before)


def test_switch_is_off_without_a_token_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert call("GET").status_code == 404
    assert call("PUT", token="anything", json={"enabled": ["cpu_bound"]}).status_code == 404
    assert not faults.is_on("cpu_bound")


def test_switch_refuses_a_missing_or_wrong_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert call("PUT", json={"enabled": ["cpu_bound"]}).status_code == 403
    assert call("PUT", token="guess", json={"enabled": ["cpu_bound"]}).status_code == 403
    assert not faults.is_on("cpu_bound")


def test_switch_toggles_faults_with_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    on = call("PUT", token=TOKEN, json={"enabled": ["cpu_bound", "log_flood"]})
    assert on.status_code == 200
    assert on.json()["enabled"] == ["cpu_bound", "log_flood"]
    assert faults.is_on("cpu_bound")
    assert faults.is_on("log_flood")
    off = call("PUT", token=TOKEN, json={"enabled": []})
    assert off.json()["enabled"] == []
    assert not faults.is_on("cpu_bound")
    assert call("GET", token=TOKEN).json()["available"] == sorted(faults.CATALOGUE)


def test_switch_rejects_unknown_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    response = call("PUT", token=TOKEN, json={"enabled": ["no_such_fault"]})
    assert response.status_code == 422
    assert "no_such_fault" in response.text


def test_switch_writes_the_state_file_every_worker_follows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "faults.json"))
    on = call("PUT", token=TOKEN, json={"enabled": ["log_flood", "cpu_bound"]})
    assert on.json()["enabled"] == ["cpu_bound", "log_flood"]
    assert faults.is_on("cpu_bound")  # here at once, without waiting for the follower
    state = json.loads((tmp_path / "faults.json").read_text())
    assert state["enabled"] == ["cpu_bound", "log_flood"]
    assert state["pid"] == os.getpid()
    assert [p.name for p in tmp_path.iterdir()] == ["faults.json"]  # no temporary file left
    assert call("GET", token=TOKEN).json()["pid"] == os.getpid()  # which worker answered


def test_a_rejected_switch_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "faults.json"))
    assert call("PUT", token=TOKEN, json={"enabled": ["no_such_fault"]}).status_code == 422
    assert not (tmp_path / "faults.json").exists()


def test_a_switch_that_cannot_be_shared_fails_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "gone" / "faults.json"))
    response = call("PUT", token=TOKEN, json={"enabled": ["cpu_bound"]})
    assert response.status_code == 500
    assert "cannot write the fault state file" in response.json()["detail"]
    assert not faults.is_on("cpu_bound")


def test_admin_routes_stay_out_of_the_openapi_schema() -> None:
    assert PATH not in app.openapi()["paths"]
