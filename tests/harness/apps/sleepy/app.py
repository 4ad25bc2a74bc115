"""An app that takes 13 s to import (over the 10 s the import check waits), as one that
loads a model at start-up does."""

from __future__ import annotations

import time

from fastapi import FastAPI

IMPORT_S = 13.0
time.sleep(IMPORT_S)  # the model being loaded

app = FastAPI(title="sleepy")


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
