"""A service lagscope does not start: the tests serve it with plain uvicorn themselves.

``/report`` blocks the event loop on purpose (seeded fault: a synchronous sleep in an
async handler, so every other request on this worker waits); ``/items`` is innocent.
``REMOTE_PROBE_TOKEN`` turns the probe's data endpoint on, as production would.
"""

from __future__ import annotations

import os
import time

from fastapi import FastAPI

import lagscope

api = FastAPI(title="remote")


@api.get("/items")
async def items() -> dict[str, int]:
    return {"count": 3}


@api.get("/report")
async def report() -> dict[str, str]:
    time.sleep(0.08)  # noqa: ASYNC251  # BLOCKS: report
    return {"status": "done"}


app = lagscope.instrument(
    api,
    probe_token=os.environ.get("REMOTE_PROBE_TOKEN") or None,
    stall_threshold_ms=30,
)
