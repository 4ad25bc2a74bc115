"""The service's app.  Each blocking line ends with a ``# BLOCKS:`` marker the test reads."""

from __future__ import annotations

import time

import slowlib  # a third-party library with a blocking API, installed in site-packages
from fastapi import FastAPI

from harness import clock  # the service's own `harness` package, not lagscope's
from reports import monthly  # the service's own `reports`, named with --code reports
from yourpkg import pricing

app = FastAPI(title=f"yourpkg (started {clock.started()})")


@app.get("/sleepy")
async def sleepy() -> dict[str, str]:
    time.sleep(0.04)  # noqa: ASYNC251  # BLOCKS: own line
    return {"ok": "yes"}


@app.get("/price")
async def price() -> dict[str, str]:
    return {"digest": pricing.quote()}


@app.get("/rates")
async def rates() -> dict[str, float]:
    return slowlib.fetch_rates()  # BLOCKS: library call


@app.get("/report")
async def report() -> dict[str, int]:
    return {"rows": monthly.render()}
