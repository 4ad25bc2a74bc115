"""Fault ``unhandled_errors``: exceptions escape to a bare 500 that leaks the traceback.

A rejected coupon is an ordinary, expected outcome, but the broken code raises a
plain ``ValueError`` that no handler maps, so the client gets a ``500``: the order
looks like an outage to monitoring, retries make it worse, and the "helpful" debug
handler sends the stack trace (file paths, library versions, sometimes data) to
whoever asked.

The fix names the domain error and maps it to a ``422`` ``application/problem+json``
answer, and the catch-all handler returns a problem+json ``500`` with an error id
and no internals, logging the traceback on the server side.
"""

from __future__ import annotations

import logging
import traceback
import uuid

from fastapi import Request
from fastapi.responses import JSONResponse

COUPONS = {"WELCOME10": 10, "SPRING5": 5}
EXPIRED = {"WINTER20"}
PROBLEM = "application/problem+json"
log = logging.getLogger("shop.errors")


class CouponRejected(Exception):
    """A coupon that cannot be applied: the client's problem, answered with 422."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"coupon {code!r} {reason}")
        self.code = code
        self.reason = reason


def discount_broken(code: str | None) -> int:
    if code is None:
        return 0
    if code in EXPIRED or code not in COUPONS:
        # SEEDED FAULT: an expected outcome raised as a bare exception nobody handles.
        raise ValueError(f"coupon {code} is not valid")
    return COUPONS[code]


def discount_fixed(code: str | None) -> int:
    if code is None:
        return 0
    if code in EXPIRED:
        raise CouponRejected(code, "has expired")
    if code not in COUPONS:
        raise CouponRejected(code, "does not exist")
    return COUPONS[code]


async def coupon_rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CouponRejected)
    body = {"type": "/problems/coupon-rejected", "title": "Coupon rejected", "status": 422,
            "detail": str(exc), "coupon": exc.code}  # fmt: skip
    return JSONResponse(body, status_code=422, media_type=PROBLEM)


async def server_error_broken(request: Request, exc: Exception) -> JSONResponse:
    # SEEDED FAULT: the traceback goes to the client.
    body = {"error": repr(exc), "traceback": traceback.format_exception(exc)}
    return JSONResponse(body, status_code=500)


async def server_error_fixed(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex
    log.error("unhandled error %s on %s", error_id, request.url.path, exc_info=exc)
    body = {"type": "about:blank", "title": "Internal Server Error", "status": 500,
            "error_id": error_id}  # fmt: skip
    return JSONResponse(body, status_code=500, media_type=PROBLEM)
