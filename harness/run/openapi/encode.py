"""Generated values as the parts of an HTTP request (lagscope.openapi_plan.Variant).

Parameters are serialised as FastAPI reads them: path values percent-encoded, query
arrays as repeated names (``?tag=a&tag=b``), booleans ``true``/``false``, cookies in one
``Cookie`` header.  The body is kept as bytes in a latin-1 string so that any byte
survives the plan's JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from lagscope.harness.run.openapi.values import Drawn

from lagscope.openapi_plan import Variant


def text(value: Any) -> str:
    """A scalar parameter value as text: ``true``/``false``, numbers as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def path_value(value: Any) -> str:
    return quote(text(value), safe="")


def header_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(header_value(v) for v in value)
    return " ".join(text(value).splitlines())


def query_pairs(query: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in query.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                pairs.append((name, text(one)))
    return pairs


def variant(drawn: Drawn) -> Variant:
    headers = {
        name: header_value(value) for name, value in drawn.headers.items() if value is not None
    }
    cookies = [f"{n}={quote(text(v), safe='')}" for n, v in drawn.cookies.items() if v is not None]
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return Variant(
        path={name: path_value(value) for name, value in drawn.path.items()},
        query=query_pairs(drawn.query),
        headers=headers,
        body=None if drawn.body is None else drawn.body.decode("latin-1"),
        content_type=drawn.content_type,
    )
