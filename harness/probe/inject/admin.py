"""The injector's admin path, answered by the probe in front of the app (``/_lagscope/inject``).

It exists only in a worker whose injector is on; then a request must carry
``Authorization: Bearer <token>`` (the run's token, in ``run.json`` under ``admin``),
else 403.  Without an injector the path is the app's like any other.

    GET /_lagscope/inject                    {"faults": ["KIND KEY=VALUE", ...], "pid": N}
    PUT /_lagscope/inject  {"faults": [...]} switch exactly these on, the rest off;
                                             each a spec string or a table, as --inject and
                                             game-day files write them; [] clears them all

Errors: 403 (token), 405 (method), 413 (body over 64 KB), 422 (a bad spec, one line
naming the key), 500 (the state file cannot be written).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from lagscope.harness.probe.inject.injector import Injector

from lagscope.errors import UsageError
from lagscope.injection import Injection, from_mapping, parse_spec

Message = MutableMapping[str, Any]
MAX_BODY = 64 * 1024


def authorized(scope: MutableMapping[str, Any], token: str) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            given = value.removeprefix(b"Bearer ").strip()
            return secrets.compare_digest(given, token.encode())
    return False


def parse_faults(body: bytes) -> list[Injection]:
    """The injections a PUT body asks for; UsageError (one line) when one is wrong."""
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise UsageError(f"body: not JSON ({exc})") from exc
    faults = data.get("faults") if isinstance(data, dict) else None
    if not isinstance(faults, list):
        raise UsageError('body: expected {"faults": [...]} (a list; [] clears every fault)')
    found = []
    for n, item in enumerate(faults, 1):
        where = f"faults #{n}"
        if isinstance(item, str):
            found.append(parse_spec(item, where=where))
        elif isinstance(item, dict):
            found.append(from_mapping(item, where=where))
        else:
            raise UsageError(f"{where}: expected 'KIND KEY=VALUE ...' or a table (got {item!r})")
    return found


async def read_body(receive: Callable[[], Awaitable[Message]]) -> bytes | None:
    """An ASGI request's whole body, or None once it exceeds ``MAX_BODY``."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body"):
            return body


async def handle(
    injector: Injector,
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Answer one request to the admin path."""

    async def answer(status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    if not authorized(scope, injector.token):
        await answer(403, {"detail": "missing or wrong token (run.json: admin.token)"})
        return
    method = scope.get("method", "GET")
    if method == "GET":
        await answer(200, {"faults": injector.describe(), "pid": os.getpid()})
        return
    if method != "PUT":
        await answer(405, {"detail": "use GET or PUT"})
        return
    body = await read_body(receive)
    if body is None:
        await answer(413, {"detail": f"body over {MAX_BODY} bytes"})
        return
    try:
        injector.switch(parse_faults(body))
    except UsageError as exc:
        await answer(422, {"detail": str(exc)})
        return
    except OSError as exc:
        await answer(500, {"detail": f"cannot switch: {exc}"})
        return
    await answer(200, {"faults": injector.describe(), "pid": os.getpid()})
