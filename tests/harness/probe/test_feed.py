"""The probe's data over HTTP (instrument(app, probe_token=...)): token-guarded, whole lines
from where the caller is, each worker answering for itself."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from lagscope.harness.probe import feed

from lagscope import rundir


def _worker_dir(run_dir: Path) -> Path:
    folder = run_dir / rundir.WORKERS / str(os.getpid())
    folder.mkdir(parents=True)
    (folder / rundir.META).write_text(json.dumps({"pid": os.getpid(), "loop": "asyncio"}))
    return folder


def _call(token: str, run_dir: Path, *, auth: str, body: bytes) -> tuple[int, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": rundir.PROBE_PATH,
             "headers": [(b"authorization", auth.encode())]}  # fmt: skip
    asyncio.run(feed.handle(token, run_dir, scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_a_worker_answers_whole_lines_from_the_callers_offsets(tmp_path: Path) -> None:
    folder = _worker_dir(tmp_path)
    (folder / rundir.LAG).write_text("t,lag_ms\n1.0,0.5\n2.0,0.7\n3.0,0.")  # last line unfinished
    status, first = _call("s3cret", tmp_path, auth="Bearer s3cret", body=b'{"offsets": {}}')
    assert status == 200
    assert (first["pid"], first["meta"]["loop"]) == (os.getpid(), "asyncio")
    assert first["files"][rundir.LAG] == {"offset": 0, "data": "t,lag_ms\n1.0,0.5\n2.0,0.7\n"}
    assert first["files"][rundir.STALLS] == {"offset": 0, "data": ""}  # not written yet
    with open(folder / rundir.LAG, "a") as f:
        f.write("9\n")
    at = len(first["files"][rundir.LAG]["data"])
    offsets = json.dumps({"offsets": {str(os.getpid()): {rundir.LAG: at}}}).encode()
    _, second = _call("s3cret", tmp_path, auth="Bearer s3cret", body=offsets)
    assert second["files"][rundir.LAG] == {"offset": at, "data": "3.0,0.9\n"}


def test_a_wrong_token_gets_403_and_no_data(tmp_path: Path) -> None:
    _worker_dir(tmp_path)
    status, answer = _call("s3cret", tmp_path, auth="Bearer guess", body=b"{}")
    assert status == 403
    assert "files" not in answer


def test_a_body_without_offsets_is_refused(tmp_path: Path) -> None:
    status, answer = _call("s3cret", tmp_path, auth="Bearer s3cret", body=b"[1, 2]")
    assert status == 422
    assert "offsets" in answer["error"]


def test_the_exceptions_file_goes_whole_once_it_exists(tmp_path: Path) -> None:
    folder = _worker_dir(tmp_path)
    _, before = _call("s3cret", tmp_path, auth="Bearer s3cret", body=b'{"offsets": {}}')
    assert before["exceptions"] is None  # no exception has escaped the app yet
    counts = {"total": 2, "other": 0, "kinds": [{"type": "KeyError", "message": "'sku'",
              "site": "app/api.py:9", "endpoint": "GET /x", "count": 2}]}  # fmt: skip
    (folder / rundir.EXCEPTIONS).write_text(json.dumps(counts))
    _, after = _call("s3cret", tmp_path, auth="Bearer s3cret", body=b'{"offsets": {}}')
    assert after["exceptions"] == counts
