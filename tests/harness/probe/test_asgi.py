"""The wrapper serves the app unchanged, in-process through httpx's ASGI transport."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from lagscope.harness.probe.asgi import InstrumentedApp


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/tokens")
    async def tokens() -> dict[str, float]:
        return {"tokens": anyio.to_thread.current_default_thread_limiter().total_tokens}

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_threadpool_option_sizes_anyios_limiter(anyio_backend: str) -> None:
    wrapped = InstrumentedApp(make_app(), None, threadpool=7)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped), base_url="http://t"
    ) as c:
        response = await c.get("/tokens")
    assert response.json() == {"tokens": 7}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_without_options_the_app_is_untouched(anyio_backend: str) -> None:
    wrapped = InstrumentedApp(make_app(), None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped), base_url="http://t"
    ) as c:
        response = await c.get("/tokens")
    assert response.json() == {"tokens": 40}


def test_instrument_counts_the_callers_package_as_the_users_code(tmp_path: Path) -> None:
    from lagscope import instrument

    probe = instrument(make_app(), run_dir=tmp_path, code=["acme.shared"])._probe
    assert probe is not None
    # This module is tests.harness.probe.test_asgi: its top-level package is the user's.
    assert probe.options.user_code == ("tests", "acme.shared")
    assert probe.options.app_root is None
    folder = instrument(make_app(), run_dir=tmp_path, app_root=tmp_path)._probe
    assert folder is not None
    assert (folder.options.user_code, folder.options.app_root) == ((), str(tmp_path))
