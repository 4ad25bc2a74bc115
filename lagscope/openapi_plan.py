"""The request plan of the ``openapi`` scenario: what the control process built from the app's
schema, what the scenario sends inside Locust, and what the report says was covered.

The harness writes it to the run directory (``rundir.OPENAPI_PLAN``) before the load starts
and names it to the load generator in ``rundir.ENV_OPENAPI_PLAN``; ``lagscope report`` reads
it back for the coverage.  A plan is plain JSON (``Plan`` below); nothing in it is secret:
``--header`` values reach the load generator apart (``rundir.ENV_OPENAPI_HEADERS``), and
run.json records them masked.

Operations are keyed ``"METHOD /path/{template}"``, as the report's endpoint tables are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class Variant(TypedDict):
    """One generated request of an operation, ready to send (its path still a template
    only where a linked parameter may replace a value at run time)."""

    path: dict[str, str]  # path parameter -> its value, already percent-encoded
    query: list[tuple[str, str]]  # (name, value) pairs, in order; arrays repeat the name
    headers: dict[str, str]  # declared header parameters, and the cookie header
    body: str | None  # the encoded body's bytes as a latin-1 string (JSON, form, multipart)
    content_type: str | None


class Source(TypedDict):
    source: str  # key of the operation whose answers supply values
    fields: list[str]  # field names to read in its JSON answers, first found wins


class Link(TypedDict):
    """A parameter that takes values from earlier answers (lagscope.harness.run.openapi.links)."""

    param: str
    location: str  # "path" or "query"
    sources: list[Source]  # tried in order: the first with values harvested supplies one


class Operation(TypedDict):
    key: str  # "GET /items/{item_id}"
    method: str
    path: str  # the path template
    weight: float
    variants: list[Variant]
    links: list[Link]
    harvest: dict[str, list[str]]  # as a source: parameter -> fields to read from its answers


class Skipped(TypedDict):
    key: str
    reason: str  # why it is not sent, and how to send it when the user can


class Plan(TypedDict):
    found: int  # operations in the schema
    methods: list[str]  # the methods allowed (--methods, or chosen without it)
    operations: list[Operation]  # the ones sent
    skipped: list[Skipped]
    generation_ms: float  # time spent generating the variants
    # Without --methods, when the schema has no GET or HEAD operation, what lagscope chose
    # to send instead and why, in one line (absent from plans that chose nothing).
    choice: NotRequired[str]


def write_plan(path: Path, plan: Plan) -> None:
    path.write_text(json.dumps(plan, indent=1) + "\n", encoding="utf-8")


def read_plan(path: Path) -> Plan:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    plan: Plan = data
    return plan


def operation_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"
