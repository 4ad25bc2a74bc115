"""Unhandled exceptions: counted by kind and the user's line they were raised at, written
whole to workers/<pid>/exceptions.json, from an app served through the probe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.unhandled import MAX_KINDS, UnhandledLog, first_line

ROOT = Path(__file__).resolve().parents[3]


def _divide(n: int) -> float:
    return 1 / n  # the line an exception is raised at: RAISED_LINE


def _line_of(marker: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.rstrip().endswith(marker))


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ratio/{n}")
    async def ratio(n: int) -> dict[str, float]:
        return {"ratio": _divide(n)}

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_exception_that_escapes_the_app_is_counted_at_the_users_line(
    anyio_backend: str, tmp_path: Path
) -> None:
    from lagscope import instrument

    wrapped = instrument(make_app(), run_dir=tmp_path)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [(await client.get(f"/ratio/{n}")).status_code for n in (0, 2, 0, 0)]
    probe = wrapped._probe
    assert probe is not None
    probe.stop()
    assert answers == [500, 200, 500, 500]
    written = json.loads((tmp_path / "workers" / str(os.getpid()) / "exceptions.json").read_text())
    line = _line_of("RAISED_LINE")
    assert written == {
        "total": 3, "other": 0,
        "kinds": [{"type": "ZeroDivisionError", "message": "division by zero",
                   "site": f"tests/harness/probe/test_unhandled.py:{line}",
                   "endpoint": "GET /ratio/{n}", "count": 3}],
    }  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_one_raised_in_a_middleware_is_put_on_its_route_not_its_raw_path(
    anyio_backend: str, tmp_path: Path
) -> None:
    # Before routing there is no template in the scope: one kind per id sent would fill
    # the bound on kinds.  The raw path is matched to the route the router would pick.
    from starlette.types import Receive, Scope, Send

    from lagscope import instrument

    app = make_app()

    class Quota:  # a pure ASGI middleware that refuses some ids before the app routes
        def __init__(self, inner: object) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].endswith("7"):
                raise PermissionError("over quota")
            await self.inner(scope, receive, send)  # type: ignore[operator]

    app.add_middleware(Quota)
    wrapped = instrument(app, run_dir=tmp_path)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/ratio/7", "/ratio/17", "/ratio/27", "/nowhere/7"):
            assert (await client.get(path)).status_code == 500
    probe = wrapped._probe
    assert probe is not None
    probe.stop()
    written = json.loads((tmp_path / "workers" / str(os.getpid()) / "exceptions.json").read_text())
    assert {k["endpoint"]: k["count"] for k in written["kinds"]} == {
        "GET /ratio/{n}": 3,
        "GET unmatched": 1,
    }


def test_kinds_beyond_the_cap_are_counted_as_other(tmp_path: Path) -> None:
    log = UnhandledLog(tmp_path / "exceptions.json", FrameFilter.for_root(ROOT))
    for i in range(MAX_KINDS + 5):
        try:
            raise ValueError(f"bad value {i}")
        except ValueError as exc:
            log.note(exc, {"method": "POST", "path": "/x"})
    log.write()
    written = json.loads((tmp_path / "exceptions.json").read_text())
    assert (written["total"], written["other"], len(written["kinds"])) == (55, 5, MAX_KINDS)


def test_a_message_is_its_first_line_cut_short() -> None:
    assert first_line(ValueError("no\nmore")) == "no"
    assert len(first_line(ValueError("x" * 500))) == 200
    assert first_line(KeyError()) == ""


def test_a_write_that_fails_leaves_nothing_half_written(tmp_path: Path) -> None:
    folder = tmp_path / "gone"  # a worker directory removed under the probe
    log = UnhandledLog(folder / "exceptions.json", FrameFilter.for_root(ROOT))
    try:
        raise KeyError("sku")
    except KeyError as exc:
        log.note(exc, {"method": "GET", "path": "/x"})  # no raise, nothing written
    assert not folder.exists()
    folder.mkdir()
    log.write()  # the next write tries again
    assert [p.name for p in folder.iterdir()] == ["exceptions.json"]
