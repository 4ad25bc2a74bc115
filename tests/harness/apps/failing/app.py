"""An app that imports fine and fails in its lifespan: a setting it needs is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    raise RuntimeError("config missing: DB_URL")
    yield  # never reached


app = FastAPI(title="failing", lifespan=lifespan)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
