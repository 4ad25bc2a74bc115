"""Fault ``schema_drift``: a request model renames a field that old clients still send.

Sign-in moved to e-mail addresses, and the login model's ``username`` became ``email``.
The API's tests, written against the new model, pass; the mobile app released last
year still sends ``username``, and every one of its logins now fails validation: FastAPI
answers 422 with ``detail[].loc == ["body", "email"]`` ("Field required").  Nothing
crashes and latency is fine, so dashboards built on 5xx and P99 stay green while the
users who have not updated cannot sign in.

The fix accepts both names while old clients are still around (pydantic's
``validation_alias=AliasChoices("email", "username")``), or keeps the old model on the
old version of the API (``/v1/login``) and puts the new one on a new path or version.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import AliasChoices, BaseModel, Field, ValidationError


class LoginRenamed(BaseModel):
    """The broken model: the new name only."""

    # SEEDED FAULT: renamed from `username`; clients that send the old name get 422.
    email: str
    password: str


class Login(BaseModel):
    """The fixed model: the new name, and the old one accepted until old clients are gone."""

    email: str = Field(validation_alias=AliasChoices("email", "username"))
    password: str


def login_broken(body: Any) -> LoginRenamed:
    """The raw JSON ``body`` as the broken model, else FastAPI's 422 (``loc`` as FastAPI
    writes it for a declared body).  The endpoint declares ``Login``, the fixed model."""
    try:
        return LoginRenamed.model_validate(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors, body=body) from None
