"""4xx answers per endpoint over the window, and what the 422 bodies say failed validation.

A client error is the service saying the request is wrong.  A share of them is normal
business and is left out:

    expected          the scenario marked the answer a success (``ok``), e.g. the shop
                      scenario's expired coupon, answered 422 on purpose
    missing resource  404 or 410 of an endpoint with a path parameter (``/items/{id}``):
                      an id that does not exist, as the openapi scenario's random ids do
    rate limited      429: the service pushing back (load shedding's kin)

What remains (400, 401, 403, 405, 415, 422, a 404 of a path with no parameter, ...) says
the clients and the API disagree.  The most common ``detail[].loc`` of the sampled 422
bodies (FastAPI's validation errors, ``error-bodies.jsonl``) names the field.
Pure: data frames in, dicts out.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pandas as pd
from lagscope.reports.latency import endpoint_key
from lagscope.reports.summary_types import ClientErrorsSection, EndpointClientErrors, Validation

MISSING = {404, 410}
RATE_LIMITED = {429}
_LOC = re.compile(r'"loc"\s*:\s*\[([^\]]*)\][^{}]*?"msg"\s*:\s*"([^"]*)"')


def validation_errors(body: str) -> list[tuple[str, str]]:
    """``(loc, msg)`` of each validation error in a FastAPI 422 body, ``loc`` dotted
    (``body.email``); a body cut short is read by pattern as far as it goes."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):
        return [
            (".".join(str(part) for part in item.get("loc", [])), str(item.get("msg", "")))
            for item in detail
            if isinstance(item, dict)
        ]
    return [
        (".".join(p.strip().strip('"') for p in loc.split(",") if p.strip()), msg)
        for loc, msg in _LOC.findall(body)
    ]


def _validation(bodies: pd.DataFrame) -> Validation | None:
    """The most common validation error among ``bodies`` (422s of one endpoint)."""
    seen: Counter[tuple[str, str]] = Counter()
    for body in bodies["body"].dropna().astype(str):
        seen.update(set(validation_errors(body)))
    if not seen:
        return None
    (loc, msg), count = seen.most_common(1)[0]
    return {"loc": loc, "msg": msg, "bodies": count, "of": int(len(bodies))}


def client_error_figures(requests: pd.DataFrame, bodies: pd.DataFrame) -> ClientErrorsSection:
    """Over the window's ``requests`` (and the 4xx ``bodies`` sampled in it): per endpoint
    with client errors, their count and share of its requests, by status, and the most
    common validation error; and what was left out, by reason."""
    if requests.empty:
        return {"requests": 0, "client_errors": 0, "left_out": {}, "endpoints": {}}
    status = requests["status"].astype(int)
    keys = endpoint_key(requests)
    four = (status >= 400) & (status < 500)
    expected = four & requests["ok"].astype(bool)
    missing = four & ~expected & status.isin(MISSING) & keys.str.contains("{", regex=False)
    limited = four & ~expected & status.isin(RATE_LIMITED)
    counted = four & ~expected & ~missing & ~limited
    answered = keys.value_counts()
    body_keys = (
        endpoint_key(bodies) if not bodies.empty else pd.Series(dtype=str, index=bodies.index)
    )
    endpoints: dict[str, EndpointClientErrors] = {}
    for key, rows in requests[counted].groupby(keys[counted], sort=True):
        mine = bodies[(body_keys == key) & (bodies["status"].astype(int) == 422)] if len(
            bodies
        ) else bodies  # fmt: skip
        endpoints[str(key)] = {
            "client_errors": int(len(rows)),
            "requests": int(answered[key]),
            "share": round(len(rows) / int(answered[key]), 4),
            "statuses": {str(k): int(v) for k, v in rows["status"].value_counts().items()},
            "validation": _validation(mine) if len(mine) else None,
        }
    return {
        "requests": int(len(requests)),
        "client_errors": int(counted.sum()),
        "left_out": {
            "expected": int(expected.sum()),
            "missing_resource": int(missing.sum()),
            "rate_limited": int(limited.sum()),
        },
        "endpoints": endpoints,
    }
