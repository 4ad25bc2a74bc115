"""An app that takes 20 s to import, as one that loads a model at start-up does."""

from __future__ import annotations

import time

from fastapi import FastAPI

IMPORT_S = 20.0
time.sleep(IMPORT_S)  # the model being loaded

app = FastAPI(title="sleepy")


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
