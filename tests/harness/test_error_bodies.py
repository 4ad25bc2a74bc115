"""The load generator keeps a sample of 4xx bodies (error-bodies.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from lagscope.harness.loadgen.error_bodies import MAX_CHARS, ErrorBodies

from lagscope import rundir


def test_one_body_per_endpoint_and_status_every_fifth_of_a_second(tmp_path: Path) -> None:
    bodies = ErrorBodies(tmp_path)
    for i in range(10):  # 10 answers 0.05 s apart: 0.0, 0.2, 0.4 are kept
        bodies.add(100 + 0.05 * i, "POST", "/login", 422, SimpleNamespace(text='{"detail": []}'))
    bodies.add(100.0, "POST", "/login", 401, SimpleNamespace(text="no"))  # another status
    bodies.add(100.0, "GET", "/health", 200, SimpleNamespace(text="fine"))  # not a 4xx
    lines = [json.loads(line) for line in (tmp_path / rundir.ERROR_BODIES).read_text().splitlines()]
    assert [(row["status"], round(row["t"] - 100, 2)) for row in lines] == [
        (422, 0.0), (422, 0.2), (422, 0.4), (401, 0.0)
    ]  # fmt: skip
    assert set(lines[0]) == set(rundir.ERROR_BODY_COLUMNS)


def test_bodies_are_cut_and_undecodable_ones_skipped(tmp_path: Path) -> None:
    class Broken:
        @property
        def text(self) -> str:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")

    bodies = ErrorBodies(tmp_path)
    bodies.add(1.0, "GET", "/a", 400, Broken())
    bodies.add(1.0, "GET", "/b", 400, SimpleNamespace(text="x" * 5000))
    (line,) = (tmp_path / rundir.ERROR_BODIES).read_text().splitlines()
    assert len(json.loads(line)["body"]) == MAX_CHARS
