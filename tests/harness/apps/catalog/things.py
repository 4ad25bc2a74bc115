"""things: a loop blocker that only a real id reaches.

``GET /things/{thing_id}/render`` blocks the event loop, but only for a thing that exists:
an unknown id is answered 404 before the blocking call.  The ids are random tokens
(``t`` and seven hex digits), which no generated value hits, so a run finds the blocker
only if it takes ids from the answers of ``GET /things``.  ``GET /me`` wants a bearer
token (``TOKEN``) that only ``--header`` can give.
"""

from __future__ import annotations

import random
import time
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI(title="things")
_rng = random.Random(7)
THINGS = {f"t{_rng.getrandbits(28):07x}": f"thing {i}" for i in range(12)}
TOKEN = "lagscope-test-token"


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/me")
async def me(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> dict[str, str]:
    if credentials.credentials != TOKEN:
        raise HTTPException(401, "wrong token")
    return {"user": "tester"}


@app.get("/things")
async def list_things() -> list[dict[str, str]]:
    return [{"id": key, "name": name} for key, name in THINGS.items()]


@app.get("/things/{thing_id}")
async def get_thing(thing_id: str) -> dict[str, str]:
    if thing_id not in THINGS:
        raise HTTPException(404, f"no thing {thing_id}")
    return {"id": thing_id, "name": THINGS[thing_id]}


@app.get("/things/{thing_id}/render")
async def render(thing_id: str) -> dict[str, str]:
    if thing_id not in THINGS:
        raise HTTPException(404, f"no thing {thing_id}")
    time.sleep(0.04)  # noqa: ASYNC251  BLOCKS: render (seeded: blocks the loop on purpose)
    return {"id": thing_id, "rendered": "ok"}
