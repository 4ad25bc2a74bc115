"""Worker count, loop choice and --no-probe, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lagscope.harness.cli.main import main

pytestmark = pytest.mark.e2e


def test_every_worker_runs_its_own_probe_on_the_chosen_loop(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--fault", "blocking_io", "--workers", "2", "--loop", "asyncio",
            "--duration", "6s", "--users", "10", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    workers = list((out / "workers").iterdir())
    assert len(workers) == 2
    metas = [json.loads((w / "meta.json").read_text()) for w in workers]
    assert {m["loop"] for m in metas} == {"asyncio.unix_events._UnixSelectorEventLoop"}
    assert summary["loop"]["workers"] == 2
    assert summary["run"]["loop"] == ["asyncio.unix_events._UnixSelectorEventLoop"]
    assert summary["resources"]["target"]["processes"] >= 3  # the master and two workers
    assert "event_loop_blocking" in {f["kind"] for f in summary["diagnosis"]}


def test_without_the_probe_the_app_is_served_bare(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--fault", "blocking_io", "--no-probe", "--duration", "3s", "--users", "5",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert not (out / "workers").exists()
    assert summary["loop"]["heartbeats"] == 0
    assert summary["requests"]["aggregate"]["count"] > 0


def test_gunicorn_with_uvicorn_workers_and_a_sized_threadpool(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--server", "gunicorn", "--workers", "2", "--loop", "uvloop",
            "--threadpool", "8", "--fault", "blocking_io", "--duration", "4s", "--users", "8",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(list((out / "workers").iterdir())) == 2
    assert summary["run"]["loop"] == ["uvloop.Loop"]
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (ready,) = [e for e in events if e["event"] == "target_ready"]
    assert ready["argv"][1:3] == ["-m", "gunicorn"]
    assert "event_loop_blocking" in {f["kind"] for f in summary["diagnosis"]}


FACTORY_APP = """\
import time

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        time.sleep(0.06)  # the line to name
        return {"ok": True}

    return app
"""


def test_an_app_factory_is_called_in_each_worker_as_uvicorn_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many apps have no module-level instance, only create_app() (served with --factory).
    (tmp_path / "factoryapp.py").write_text(FACTORY_APP)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    args = ["run", "--app", "factoryapp:create_app", "--server", "gunicorn", "--workers", "2",
            "--duration", "4s", "--users", "4", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(list((out / "workers").iterdir())) == 2
    assert summary["requests"]["aggregate"]["count"] > 10
    blocking = [f for f in summary["diagnosis"] if f["kind"] == "event_loop_blocking"]
    line = next(n for n, text in enumerate(FACTORY_APP.splitlines(), 1) if "line to name" in text)
    assert blocking[0]["location"] == f"factoryapp.py:{line}", blocking
