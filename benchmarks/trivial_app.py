"""A trivial FastAPI app for the cost benchmarks: one cheap endpoint, nothing else.

Served by uvicorn (1 worker, uvloop, httptools) it answers ~10,000 req/s on one core,
so what a benchmark measures is the load generator or the probe, not the app.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, bool]:
    return {"ok": True}
