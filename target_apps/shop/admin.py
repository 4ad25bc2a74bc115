"""The admin endpoint that switches faults while the service runs (game days use it).

It is **off** unless ``LAGSCOPE_ADMIN_TOKEN`` is set (the harness generates a random
token per run and records it in ``run.json``): without it the routes answer 404.
With it, a request must carry ``Authorization: Bearer <token>``, else 403.

    GET /_lagscope/faults                      {"enabled": [...], "available": [...], "pid": N}
    PUT /_lagscope/faults  {"enabled": [...]}  switch exactly these on, the rest off

A switch reaches every worker of the service when ``LAGSCOPE_FAULT_FILE`` names a state
file (the harness sets it; see ``lagscope.target_apps.shop.fault_switch``): at once in the worker
that takes the PUT, within 50 ms (plus any loop lag) in the others.  ``enabled`` is what
is on in the worker that answered (``pid``), i.e. what the requests it serves see.
"""

from __future__ import annotations

import os
import secrets

from fastapi import APIRouter, HTTPException, Request
from lagscope.target_apps.shop import fault_switch, faults
from pydantic import BaseModel

from lagscope import rundir

TOKEN_ENV = rundir.ENV_ADMIN_TOKEN
PATH = "/_lagscope/faults"
router = APIRouter()


class FaultState(BaseModel):
    enabled: list[str]
    available: list[str] = []
    pid: int | None = None  # the worker that answered


def _authorize(request: Request) -> None:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise HTTPException(status_code=404, detail="Not Found")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(status_code=403, detail="missing or wrong admin token")


def _state() -> FaultState:
    return FaultState(
        enabled=sorted(faults.enabled), available=sorted(faults.CATALOGUE), pid=os.getpid()
    )


@router.get(PATH, include_in_schema=False)
async def get_faults(request: Request) -> FaultState:
    _authorize(request)
    return _state()


@router.put(PATH, include_in_schema=False)
async def put_faults(request: Request, new: FaultState) -> FaultState:
    _authorize(request)
    try:
        fault_switch.switch(new.enabled)
    except KeyError as exc:
        raise HTTPException(status_code=422, detail=f"unknown fault(s): {exc.args[0]}") from exc
    except OSError as exc:
        raise HTTPException(
            status_code=500, detail=f"cannot write the fault state file: {exc}"
        ) from exc
    await fault_switch.settle()
    return _state()
