"""What an app serves outside its OpenAPI schema: the pages a zero-config run can load."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from lagscope.app_routes import STATIC_FILES, served, served_routes


def site(static: Path) -> FastAPI:
    app = FastAPI()
    hidden = APIRouter(prefix="/pages")

    @hidden.get("/about", include_in_schema=False)
    async def about() -> dict[str, str]:
        return {}

    @hidden.get("/search", include_in_schema=False)
    async def search(q: str) -> dict[str, str]:  # a required query parameter
        return {}

    app.include_router(hidden)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def home() -> str:
        return "<p>home</p>"

    @app.get("/raw/{name}", include_in_schema=False)
    async def raw(name: str) -> dict[str, str]:
        return {}

    @app.post("/hook", include_in_schema=False)
    async def hook() -> None: ...

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str) -> None: ...

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    app.router.routes.append(Route("/plain page", plain))
    app.mount("/static", StaticFiles(directory=static), name="static")
    admin = FastAPI()

    @admin.get("/health")
    async def health() -> str:
        return "ok"

    app.mount("/admin", admin)
    return app


@pytest.fixture
def static(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body {}")
    (tmp_path / "index.html").write_text("<p>static</p>")
    (tmp_path / ".secret").write_text("hidden files are not served as pages")
    return tmp_path


def test_get_routes_without_parameters_and_static_files_are_pages(static: Path) -> None:
    found = served(site(static))
    assert found == {
        "pages": ["/pages/about", "/", "/plain%20page", "/admin/health"],
        "static": ["/static/css/app.css", "/static/index.html"],
        "with_params": ["/pages/search", "/raw/{name}"],
        "websockets": ["/ws/{room}"],
        "other": ["POST /hook"],
    }  # the docs of the app and of the mounted one are left out


def test_paths_in_the_schema_are_not_pages(static: Path) -> None:
    assert served(site(static), schema_paths=["/"])["pages"][:2] == [
        "/pages/about",
        "/plain%20page",
    ]


def test_a_static_mount_gives_a_few_files(tmp_path: Path) -> None:
    for n in range(STATIC_FILES + 5):
        (tmp_path / f"{n:02}.txt").write_text("x")
    app = FastAPI()
    app.mount("/files", StaticFiles(directory=tmp_path))
    assert served(app)["static"] == [f"/files/{n:02}.txt" for n in range(STATIC_FILES)]


def test_the_routes_are_read_in_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "chat.py").write_text(
        "from fastapi import FastAPI, WebSocket\n"
        "print('the app prints at import')\n"
        "app = FastAPI()\n"
        "@app.websocket('/ws')\nasync def ws(websocket: WebSocket) -> None: ...\n"
        "@app.get('/', include_in_schema=False)\nasync def home() -> str:\n    return 'hi'\n"
    )
    monkeypatch.chdir(tmp_path)
    assert served_routes("chat:app") == {
        "pages": ["/"], "static": [], "with_params": [], "websockets": ["/ws"], "other": [],
    }  # fmt: skip
    assert served_routes("chat:nothing") is None  # no answer: the caller goes on without
