"""The openapi scenario's plan: every operation of a schema, valid requests, links, refusals."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from lagscope.harness.loadgen import openapi_requests
from lagscope.harness.run.openapi import options
from lagscope.harness.run.openapi.plan import build_plan, pages_plan, refusal
from lagscope.harness.run.openapi.values import EMAIL_PATTERN, narrow

from lagscope.app_routes import Served
from lagscope.errors import UsageError
from lagscope.openapi_plan import Plan
from tests.harness.apps.accounts import app as accounts
from tests.harness.apps.catalog import app as catalog

SCHEMA = catalog.app.openapi()
GETS = sorted(f"GET {path}" for path, item in SCHEMA["paths"].items() if "get" in item)
ALL = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def safe_plan() -> Plan:
    return build_plan(SCHEMA, methods=("GET", "HEAD"), weights={}, seed=0)


@pytest.fixture(scope="module")
def full_plan() -> Plan:
    return build_plan(SCHEMA, methods=ALL, weights={}, seed=0)


def keys(plan: Plan) -> list[str]:
    return sorted(op["key"] for op in plan["operations"])


def test_every_get_is_planned_and_every_write_is_held_back_by_default(safe_plan: Plan) -> None:
    assert len(GETS) == 11
    assert keys(safe_plan) == GETS
    assert safe_plan["found"] == 15
    reasons = {s["key"]: s["reason"] for s in safe_plan["skipped"]}
    assert set(reasons) == {"POST /items", "PUT /items/{item_id}", "DELETE /items/{item_id}",
                            "POST /orders"}  # fmt: skip
    assert reasons["PUT /items/{item_id}"] == (
        "PUT is not sent unless asked: pass --methods PUT (or all)"
    )


def test_with_every_method_every_operation_is_planned(full_plan: Plan) -> None:
    assert len(full_plan["operations"]) == 15
    assert full_plan["skipped"] == []
    for op in full_plan["operations"]:
        assert op["variants"], op["key"]
        assert op["weight"] == 1.0


def answers(app: Any, plan: Plan) -> list[tuple[str, str, int, str]]:
    """Every request of ``plan`` sent to ``app`` in-process: (operation, url, status, body)."""
    ready = openapi_requests.load(plan, headers={})

    async def send_all() -> list[tuple[str, str, int, str]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [
                (op.key, url, answer.status_code, answer.text)
                for op in ready.ops
                for url, headers, body in zip(op.urls, op.headers, op.bodies, strict=True)
                for answer in [
                    await client.request(op.method, url, headers=headers, content=body)
                ]  # fmt: skip
            ]

    return asyncio.run(send_all())


def test_every_generated_request_passes_the_apps_validation(full_plan: Plan) -> None:
    # 404 is an unknown id (links fix that at run time); 422 would be an invalid request.
    sent = answers(catalog.app, full_plan)
    assert len(sent) > 100
    assert [a for a in sent if a[2] not in {200, 201, 204, 404}] == []


def test_login_forms_and_email_fields_of_an_app_in_the_wild_pass_its_validation() -> None:
    # A nullable form field is left out, not sent as the text "null" (which the OAuth2
    # form's grant_type pattern refuses); an email is a plain address pydantic accepts.
    sent = answers(accounts.app, build_plan(accounts.app.openapi(), methods=ALL, weights={},
                                            seed=0))  # fmt: skip
    assert {key for key, _, _, _ in sent} == {"POST /token", "POST /users"}
    assert len(sent) > 10
    assert [a for a in sent if a[2] not in {200, 201}] == []


def variants(plan: Plan, key: str) -> list[Any]:
    (op,) = [op for op in plan["operations"] if op["key"] == key]
    return op["variants"]


def test_generated_values_follow_patterns_enums_and_formats(full_plan: Plan) -> None:
    for v in variants(full_plan, "GET /search"):
        assert re.fullmatch(r"[A-Z]{3}-\d{4}", dict(v["query"])["sku"])
    for v in variants(full_plan, "GET /items/{item_id}/price"):
        assert dict(v["query"])["currency"] in {"EUR", "USD", "JPY"}
    for v in variants(full_plan, "GET /sales"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", dict(v["query"])["since"])
    for v in variants(full_plan, "GET /users/{user_id}"):
        assert re.fullmatch(r"[0-9a-f-]{36}", v["path"]["user_id"])
    for v in variants(full_plan, "GET /preferences"):
        assert re.fullmatch(r"[a-z]{3,8}", v["headers"]["x-tenant"])
    bodies = [v["body"] for v in variants(full_plan, "POST /orders")]
    assert all(catalog.OrderIn.model_validate_json(body) for body in bodies)
    assert len(set(bodies)) > 5  # varied, not one request repeated


def test_path_ids_are_linked_to_the_collection_that_lists_them(safe_plan: Plan) -> None:
    links = {op["key"]: op["links"] for op in safe_plan["operations"]}
    (item,) = links["GET /items/{item_id}"]
    assert item["param"] == "item_id"
    assert item["sources"][0] == {"source": "GET /items", "fields": ["item_id", "id"]}
    (user,) = links["GET /users/{user_id}"]
    assert user["sources"][0]["source"] == "GET /users"
    # The deepest parameter first: a review id comes with the item it belongs to.
    review, parent = links["GET /items/{item_id}/reviews/{review_id}"]
    assert (review["param"], parent["param"]) == ("review_id", "item_id")
    assert review["sources"][0]["source"] == "GET /items/{item_id}/reviews"
    harvest = {op["key"]: op["harvest"] for op in safe_plan["operations"]}
    assert harvest["GET /items"] == {"item_id": ["item_id", "id"]}
    assert harvest["GET /items/{item_id}/reviews"]["review_id"] == ["review_id", "id"]


def test_a_write_that_creates_is_a_source_only_when_writes_are_sent(full_plan: Plan) -> None:
    (op,) = [op for op in full_plan["operations"] if op["key"] == "GET /items/{item_id}"]
    sources = [s["source"] for s in op["links"][0]["sources"]]
    assert sources[:2] == ["GET /items", "POST /items"]


def test_weights_name_operations_or_paths_and_zero_leaves_one_out() -> None:
    plan = build_plan(
        SCHEMA, methods=ALL, weights={"/items/{item_id}": 3, "GET /health": 0}, seed=0
    )
    weights = {op["key"]: op["weight"] for op in plan["operations"]}
    assert weights["GET /items/{item_id}"] == weights["PUT /items/{item_id}"] == 3
    assert weights["GET /items"] == 1
    assert plan["skipped"] == [{"key": "GET /health", "reason": "weight 0 (--weights)"}]


def test_a_weight_for_no_operation_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--weights names 'GET /nope', which is no operation"):
        build_plan(SCHEMA, methods=ALL, weights={"GET /nope": 2}, seed=0)


def writes_only() -> dict[str, Any]:
    app = FastAPI()

    @app.post("/a")
    async def a() -> None: ...

    @app.post("/b")
    async def b() -> None: ...

    @app.delete("/b/{x}")
    async def c(x: int) -> None: ...

    return app.openapi()


def test_nothing_to_send_is_refused_naming_what_was_found() -> None:
    plan = build_plan(writes_only(), methods=("GET", "HEAD"), weights={}, seed=0)
    assert refusal(plan, app="inbox:app") == (
        "inbox:app: 3 operations, none GET or HEAD (2 POST, 1 DELETE): "
        "pass --methods POST,DELETE to send them"
    )
    only_posts = build_plan(
        writes_only(), methods=("GET", "HEAD", "DELETE"), weights={"/b/{x}": 0}, seed=0
    )
    assert refusal(only_posts, app="inbox:app") == (
        "inbox:app: 3 operations, none can be sent (POST /a: POST is not sent unless asked: "
        "pass --methods POST (or all); POST /b: POST is not sent unless asked: pass --methods "
        "POST (or all); DELETE /b/{x}: weight 0 (--weights)); pass --methods or --weights, "
        "or --scenario with a locustfile"
    )
    empty = build_plan(FastAPI().openapi(), methods=("GET",), weights={}, seed=0)
    assert refusal(empty, app="x:app") == (
        "x:app: nothing to load: its OpenAPI schema has no operation and its routes could not "
        "be read; pass --scenario with a locustfile"
    )
    assert refusal(build_plan(SCHEMA, methods=("GET",), weights={}, seed=0), app="c") is None


def test_without_methods_a_schema_with_no_get_sends_the_operations_it_has() -> None:
    plan = build_plan(writes_only(), methods=None, weights={}, seed=0)
    assert plan["methods"] == ["POST", "DELETE"]
    assert keys(plan) == ["DELETE /b/{x}", "POST /a", "POST /b"]
    assert plan["choice"] == (
        "the schema has no GET or HEAD operation, so its 3 operations (POST,DELETE) are sent; "
        "pass --methods to choose"
    )
    assert refusal(plan, app="inbox:app") is None


def test_without_methods_a_schema_with_a_get_sends_only_gets_and_heads() -> None:
    plan = build_plan(SCHEMA, methods=None, weights={}, seed=0)
    assert plan["methods"] == ["GET", "HEAD"]
    assert keys(plan) == GETS
    assert "choice" not in plan


def served(**given: list[str]) -> Served:
    found = Served(pages=[], static=[], with_params=[], websockets=[], other=[])
    found.update(given)  # type: ignore[typeddict-item]
    return found


def test_an_empty_schema_sends_the_pages_the_app_serves_outside_it() -> None:
    plan = pages_plan(served(pages=["/", "/about"], static=["/static/app.css"]),
                      weights={"/about": 3})  # fmt: skip
    assert plan is not None
    assert (plan["found"], plan["methods"]) == (0, ["GET"])
    assert [(op["key"], op["weight"]) for op in plan["operations"]] == [
        ("GET /", 1.0), ("GET /about", 3.0), ("GET /static/app.css", 1.0),
    ]  # fmt: skip
    assert all(len(op["variants"]) == 1 for op in plan["operations"])
    assert plan["choice"] == (
        "the schema has no operation, so the 2 GET routes and 1 static file the app serves "
        "outside it (/, /about, /static/app.css) are sent"
    )
    assert pages_plan(served(websockets=["/ws"]), weights={}) is None


def test_an_app_with_nothing_http_to_send_is_refused_naming_what_it_serves() -> None:
    empty = build_plan(FastAPI().openapi(), methods=None, weights={}, seed=0)
    what = served(websockets=["/ws/{room}"], with_params=["/raw/{name}"], other=["POST /hook"])
    assert refusal(empty, app="chat:app", served=what) == (
        "chat:app: nothing to load: its OpenAPI schema has no operation and outside it the app "
        "serves only 1 WebSocket route (/ws/{room}), 1 GET route that needs parameters "
        "(/raw/{name}), 1 non-GET route (POST /hook), nothing lagscope can send; "
        "pass --scenario with a locustfile"
    )
    assert refusal(empty, app="bare:app", served=served()) == (
        "bare:app: nothing to load: its OpenAPI schema has no operation and the app serves "
        "nothing but its documentation; pass --scenario with a locustfile"
    )


def test_one_kind_of_write_is_named_alone() -> None:
    app = FastAPI()

    @app.post("/x")
    async def x() -> None: ...

    plan = build_plan(app.openapi(), methods=("GET", "HEAD"), weights={}, seed=0)
    assert refusal(plan, app="a:app") == (
        "a:app: 1 operation, all POST: pass --methods POST to send them"
    )


def test_the_same_seed_plans_the_same_requests() -> None:
    first = build_plan(SCHEMA, methods=ALL, weights={}, seed=3)
    again = build_plan(SCHEMA, methods=ALL, weights={}, seed=3)
    assert first["operations"] == again["operations"]


@pytest.mark.parametrize(
    ("schema", "narrowed"),
    [
        ({"type": "integer"}, {"type": "integer", "minimum": 1, "maximum": 1001}),
        ({"type": "integer", "maximum": 10}, {"type": "integer", "maximum": 10, "minimum": 1}),
        (
            {"type": "integer", "minimum": 5000},
            {"type": "integer", "minimum": 5000, "maximum": 6000},
        ),  # fmt: skip
        ({"type": "string"}, {"type": "string", "pattern": "^[a-z0-9]{1,12}$"}),
        (
            {"type": "string", "maxLength": 3},
            {"type": "string", "maxLength": 3, "pattern": "^[a-z0-9]{1,3}$"},
        ),  # fmt: skip
        ({"type": "string", "format": "date"}, {"type": "string", "format": "date"}),
        ({"type": "string", "format": "email"}, {"type": "string", "pattern": EMAIL_PATTERN}),
        ({"type": "string", "examples": ["abc", 5]}, {"enum": ["abc"]}),  # 5 is no string
        (
            {"type": "array", "items": {"enum": [1]}},
            {"type": "array", "items": {"enum": [1]}, "maxItems": 3},
        ),  # fmt: skip
        (
            {"type": "object", "properties": {}},
            {"type": "object", "properties": {}, "additionalProperties": False},
        ),  # fmt: skip
    ],
)
def test_schemas_are_narrowed_to_realistic_values_they_allow(
    schema: dict[str, Any], narrowed: dict[str, Any]
) -> None:
    assert narrow(schema, document={}) == narrowed


def test_a_float_above_an_exclusive_bound_is_not_a_hair_above_it() -> None:
    got = narrow({"type": "number", "exclusiveMinimum": 0, "maximum": 50}, document={})
    assert got["minimum"] == 0.01


@pytest.mark.parametrize(
    ("given", "methods"),
    [
        (None, None),  # not given: the plan chooses
        ("all", ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")),
        ("get, post,GET", ("GET", "POST")),
    ],
)
def test_methods_are_parsed(given: str | None, methods: tuple[str, ...] | None) -> None:
    assert options.parse_methods(given) == methods


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: options.parse_methods("GET,FETCH"), "--methods: 'FETCH' is not an HTTP method"),
        (lambda: options.parse_methods(","), "--methods is empty"),
        (lambda: options.parse_header("Authorization Bearer x"), "is not 'Name: value'"),
        (lambda: options.parse_weights("GET /items"), "is not NAME=WEIGHT"),
        (lambda: options.parse_weights("/a=-1"), "must be 0 or more"),
        (lambda: options.parse_weights("/a=many"), "is not a number"),
        (lambda: options.parse_weights("missing.toml"), "cannot read missing.toml"),
        (lambda: options.check_scenario("shop", ["--methods"]), "--methods applies to the openapi"),
    ],
)
def test_bad_openapi_flags_say_what_is_wrong(call: Any, says: str) -> None:
    with pytest.raises(UsageError, match=re.escape(says)):
        call()


def test_headers_are_parsed_and_masked_for_the_record() -> None:
    assert options.parse_header("Authorization: Bearer a:b") == ("Authorization", "Bearer a:b")
    assert options.mask("Bearer sekret") == "Bearer ***"
    assert options.mask("sekret") == "***"
    argv = ["lagscope", "run", "--header", "Authorization: Bearer s3", "--header=X-Key: k9", "-x"]
    assert options.masked_argv(argv) == [
        "lagscope", "run", "--header", "Authorization: Bearer ***", "--header=X-Key: ***", "-x"
    ]  # fmt: skip


def test_weights_come_inline_or_from_a_toml_file(tmp_path: Path) -> None:
    assert options.parse_weights("GET /items=3, /health=0") == (("GET /items", 3.0),
                                                               ("/health", 0.0))  # fmt: skip
    file = tmp_path / "w.toml"
    file.write_text('"GET /items" = 3\n"/health" = 0.5\n', encoding="utf-8")
    assert options.parse_weights(str(file)) == (("GET /items", 3.0), ("/health", 0.5))
    file.write_text('[weights]\n"/x" = 2\n', encoding="utf-8")
    assert options.parse_weights(str(file)) == (("/x", 2.0),)
