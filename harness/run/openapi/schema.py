"""Reading the app's ``/openapi.json`` into operations with every ``$ref`` resolved.

Only the parts a request needs are kept: the parameters (path, query, header, cookie) with
their schemas and examples, the request body's media type and schema, and the property
names of the JSON answers (links read them).  A recursive reference is cut where it
recurs with the schema ``{"not": {}}``, which accepts nothing: an optional recursive field is
left out of generated values, a required one makes the operation unsendable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from lagscope.errors import TargetStartError
from lagscope.openapi_plan import METHODS

Location = Literal["path", "query", "header", "cookie"]
LOCATIONS: tuple[Location, ...] = ("path", "query", "header", "cookie")
NOTHING: dict[str, Any] = {"not": {}}  # the schema that no value satisfies
MAX_DEPTH = 24  # references nested deeper than this are cut as recursive ones are
JSON_TYPES = ("application/json",)
# Request bodies the plan can encode, in the order it prefers them.
BODY_TYPES = ("json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


@dataclass(frozen=True)
class Param:
    name: str
    location: Location
    required: bool
    schema: dict[str, Any]
    examples: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Body:
    media_type: str
    schema: dict[str, Any]
    required: bool
    examples: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class OperationSpec:
    method: str  # upper case
    path: str
    params: tuple[Param, ...]
    body: Body | None
    answer_fields: frozenset[str]  # property names anywhere in its 2xx JSON answers
    unsupported: str | None = None  # why no request can be built, when none can

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def path_params(self) -> list[str]:
        """The path template's parameters, in order."""
        return [part[1:-1] for part in self.path.split("/") if _is_param(part)]


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def read_schema(url: str, *, headers: dict[str, str], log: Path) -> dict[str, Any]:
    """The app's ``/openapi.json``.

    Errors say what the app answered and where to look (``log``: the target's log),
    never the HTTP library's text (which links to its documentation).
    """
    try:
        response = httpx.get(url + "/openapi.json", headers=headers, timeout=10.0)
        schema: Any = response.raise_for_status().json()
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        advice = (
            "there is no schema to take operations from; pass --scenario with a locustfile"
            if code == 404
            else f"its log says why: {log}"
        )
        raise TargetStartError(
            f"the app answered HTTP {code} to GET /openapi.json; {advice}"
        ) from exc
    except httpx.HTTPError as exc:
        raise TargetStartError(
            f"GET /openapi.json failed ({type(exc).__name__}); the target's log: {log}"
        ) from exc
    except ValueError as exc:
        raise TargetStartError(
            "the app's /openapi.json is not JSON; pass --scenario with a locustfile"
        ) from exc
    if not isinstance(schema, dict) or not isinstance(schema.get("paths", {}), dict):
        raise TargetStartError("the app's /openapi.json has no 'paths' object")
    return schema


def resolve(node: Any, document: dict[str, Any], *, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by a copy of what it points to."""
    if isinstance(node, list):
        return [resolve(item, document, seen=seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen or len(seen) >= MAX_DEPTH or not ref.startswith("#/"):
            return dict(NOTHING)
        target = _pointer(document, ref)
        if target is None:
            return dict(NOTHING)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        resolved = resolve(target, document, seen=(*seen, ref))
        if isinstance(resolved, dict) and siblings:
            return {**resolved, **resolve(siblings, document, seen=seen)}
        return resolved
    return {key: resolve(value, document, seen=seen) for key, value in node.items()}


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return copy.deepcopy(node)


def operations(document: dict[str, Any]) -> list[OperationSpec]:
    """Every operation of the schema, sorted by path then method."""
    found = []
    for path, item in sorted(document.get("paths", {}).items()):
        if not isinstance(item, dict):
            continue
        item = resolve(item, document)
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method.lower())
            if isinstance(op, dict):
                found.append(_operation(method, path, op, shared))
    return found


def _operation(
    method: str, path: str, op: dict[str, Any], shared: list[dict[str, Any]]
) -> OperationSpec:
    by_name: dict[tuple[str, str], dict[str, Any]] = {}
    for param in [*shared, *(op.get("parameters") or [])]:  # the operation's win
        if isinstance(param, dict) and "name" in param:
            by_name[(param["name"], param.get("in", ""))] = param
    params, unsupported = [], None
    for raw in by_name.values():
        location = raw.get("in")
        if location not in LOCATIONS:
            continue
        if "schema" not in raw and "content" in raw:
            unsupported = f"parameter {raw['name']} is given as content, not a schema"
            continue
        params.append(
            Param(
                name=str(raw["name"]),
                location=location,
                required=bool(raw.get("required")) or location == "path",
                schema=_schema_of(raw),
                examples=given_examples(raw),
            )
        )
    body, body_problem = _body(op.get("requestBody"))
    return OperationSpec(
        method=method,
        path=path,
        params=tuple(params),
        body=body,
        answer_fields=frozenset(_answer_fields(op.get("responses") or {})),
        unsupported=unsupported or body_problem,
    )


def _schema_of(holder: dict[str, Any]) -> dict[str, Any]:
    schema = holder.get("schema")
    return schema if isinstance(schema, dict) else {}


def given_examples(holder: dict[str, Any]) -> list[Any]:
    """Examples given beside a schema: ``example``, or ``examples`` (a map of ``value``s)."""
    found: list[Any] = []
    if "example" in holder:
        found.append(holder["example"])
    examples = holder.get("examples")
    if isinstance(examples, dict):
        found += [e["value"] for e in examples.values() if isinstance(e, dict) and "value" in e]
    return found


def _body(request_body: Any) -> tuple[Body | None, str | None]:
    if not isinstance(request_body, dict):
        return None, None
    content = request_body.get("content") or {}
    required = bool(request_body.get("required"))
    for wanted in BODY_TYPES:
        for media_type, media in content.items():
            if not _matches(media_type, wanted) or not isinstance(media, dict):
                continue
            return Body(media_type, _schema_of(media), required, given_examples(media)), None
    if not content:
        return None, None
    types = ", ".join(sorted(content))
    problem = f"request body of type {types}: lagscope generates JSON, form and text bodies"
    return None, problem if required else None


def _matches(media_type: str, wanted: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    if wanted == "json":
        return base in JSON_TYPES or base.endswith("+json")
    return base == wanted


def _answer_fields(responses: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for code, response in responses.items():
        if not str(code).startswith("2") or not isinstance(response, dict):
            continue
        for media_type, media in (response.get("content") or {}).items():
            if _matches(media_type, "json") and isinstance(media, dict):
                _collect_properties(media.get("schema"), names, depth=0)
    return names


def _collect_properties(schema: Any, names: set[str], *, depth: int) -> None:
    if not isinstance(schema, dict) or depth > 6:
        return
    for name, sub in (schema.get("properties") or {}).items():
        names.add(str(name))
        _collect_properties(sub, names, depth=depth + 1)
    _collect_properties(schema.get("items"), names, depth=depth + 1)
    _collect_properties(schema.get("additionalProperties"), names, depth=depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            _collect_properties(sub, names, depth=depth + 1)
