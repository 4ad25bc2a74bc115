"""The app's endpoints under anyio's pytest plugin."""

from __future__ import annotations

import httpx
import pytest
from app import app

pytestmark = pytest.mark.anyio


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


async def test_sleep() -> None:
    async with client() as c:
        assert (await c.get("/sleep")).status_code == 200


async def test_login() -> None:
    async with client() as c:
        assert (await c.post("/login", params={"password": "pw"})).status_code == 200


async def test_rates() -> None:
    async with client() as c:
        assert (await c.get("/rates")).json() == {"EUR": 1.0}


async def test_pause() -> None:
    async with client() as c:
        assert (await c.get("/pause")).status_code == 200


async def test_report() -> None:
    async with client() as c:
        assert (await c.get("/report")).status_code == 200


async def test_health() -> None:
    async with client() as c:
        assert (await c.get("/health")).json() == {"status": "ok"}
