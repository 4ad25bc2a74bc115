"""Inside Locust: picking requests from the plan, linking ids harvested from answers."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter

import pytest
from lagscope.harness.loadgen import openapi_requests
from lagscope.harness.loadgen.openapi_requests import (
    HARVEST_EVERY,
    POOL_SIZE,
    PRIME_TRIES,
    STALE_AFTER,
)

from lagscope.openapi_plan import Link, Operation, Plan, Source, Variant


def variant(path: dict[str, str] | None = None, **query: str) -> Variant:
    return Variant(path=path or {}, query=list(query.items()), headers={}, body=None,
                   content_type=None)  # fmt: skip


def op(
    key: str,
    variants: list[Variant],
    *,
    links: list[Link] | None = None,
    harvest: dict[str, list[str]] | None = None,
    weight: float = 1.0,
) -> Operation:
    method, path = key.split(" ")
    return Operation(key=key, method=method, path=path, weight=weight, variants=variants,
                     links=links or [], harvest=harvest or {})  # fmt: skip


def link(param: str, *sources: str, location: str = "path") -> Link:
    return Link(param=param, location=location,
                sources=[Source(source=s, fields=[param, "id"]) for s in sources])  # fmt: skip


def plan(*ops: Operation) -> Plan:
    return Plan(found=len(ops), methods=["GET"], operations=list(ops), skipped=[],
                generation_ms=0.0)  # fmt: skip


ITEMS = op("GET /items", [variant(limit="5")], harvest={"item_id": ["item_id", "id"]})
ITEM = op("GET /items/{item_id}", [variant({"item_id": "7"})],
          links=[link("item_id", "GET /items")])  # fmt: skip
REVIEWS = op("GET /items/{item_id}/reviews", [variant({"item_id": "7"})],
             links=[link("item_id", "GET /items")],
             harvest={"review_id": ["review_id", "id"]})  # fmt: skip
REVIEW = op(
    "GET /items/{item_id}/reviews/{review_id}", [variant({"item_id": "7", "review_id": "8"})],
    links=[link("review_id", "GET /items/{item_id}/reviews"), link("item_id", "GET /items")],
)  # fmt: skip


def answer(*objects: dict[str, object]) -> bytes:
    return json.dumps(list(objects)).encode()


def test_a_linked_operation_with_nothing_harvested_sends_its_source_first() -> None:
    ready = openapi_requests.load(plan(ITEMS, ITEM), headers={})
    rng = random.Random(1)
    only_item = openapi_requests.Requests(
        ops=[ready.by_key["GET /items/{item_id}"]], weights=[1.0], by_key=ready.by_key
    )
    sent = [only_item.next_request(rng).op.key for _ in range(PRIME_TRIES + 2)]
    # The source is tried a few times; after that the generated value goes out.
    assert sent == ["GET /items"] * PRIME_TRIES + ["GET /items/{item_id}"] * 2
    assert only_item.next_request(rng).url == "/items/7"


def test_ids_harvested_from_a_list_answer_fill_the_path() -> None:
    ready = openapi_requests.load(plan(ITEMS, ITEM), headers={})
    rng = random.Random(1)
    listing = ready._request(ready.by_key["GET /items"], rng, depth=0)
    assert listing.url == "/items?limit=5"
    assert ready.wants_answer(listing)
    ready.harvest(listing, answer({"id": 1001, "name": "a"}, {"id": 1002}), rng)
    urls = {ready._request(ready.by_key["GET /items/{item_id}"], rng, depth=0).url
            for _ in range(50)}  # fmt: skip
    assert urls == {"/items/1001", "/items/1002"}


def test_a_nested_id_comes_with_the_parent_it_was_found_under() -> None:
    ready = openapi_requests.load(plan(ITEMS, REVIEWS, REVIEW), headers={})
    rng = random.Random(2)
    ready.harvest(ready._request(ready.by_key["GET /items"], rng, depth=0),
                  answer({"id": 1}, {"id": 2}, {"id": 3}), rng)  # fmt: skip
    for item_id, review_ids in (("1", (11, 12)), ("2", (21,))):
        reviews = ready._request(ready.by_key["GET /items/{item_id}/reviews"], rng, depth=0)
        reviews = dataclasses.replace(reviews, bindings={"item_id": item_id})
        ready.harvest(reviews, answer(*({"id": r, "item_id": int(item_id)} for r in review_ids)),
                      rng)  # fmt: skip
    urls = {ready._request(ready.by_key[REVIEW["key"]], rng, depth=0).url for _ in range(60)}
    assert urls == {"/items/1/reviews/11", "/items/1/reviews/12", "/items/2/reviews/21"}


def test_fields_are_found_in_wrapped_and_nested_answers_but_not_in_booleans() -> None:
    ready = openapi_requests.load(plan(ITEMS, ITEM), headers={})
    rng = random.Random(3)
    listing = ready._request(ready.by_key["GET /items"], rng, depth=0)
    body = {"total": 2, "data": [{"id": "a b"}, {"id": True}, {"item_id": 5, "id": 6}]}
    ready.harvest(listing, json.dumps(body).encode(), rng)
    ready.harvest(listing, b"not json", rng)
    pool = ready.pools[("GET /items", "item_id")]
    assert sorted(e["item_id"] for e in pool.entries) == ["5", "a%20b"]


@pytest.mark.parametrize("kind", ["full", "stale"])
def test_a_settled_pool_reads_only_some_answers(kind: str) -> None:
    ready = openapi_requests.load(plan(ITEMS, ITEM), headers={})
    rng = random.Random(4)
    listing = ready._request(ready.by_key["GET /items"], rng, depth=0)
    if kind == "full":  # more distinct ids than a pool keeps
        for start in range(0, POOL_SIZE + 64, 64):
            ready.harvest(listing, answer(*({"id": i} for i in range(start, start + 64))), rng)
    else:  # the same few ids, answer after answer
        for _ in range(STALE_AFTER + 1):
            ready.harvest(listing, answer({"id": 1}, {"id": 2}), rng)
    pool = ready.pools[("GET /items", "item_id")]
    assert len(pool.entries) == (POOL_SIZE if kind == "full" else 2)
    assert len({e["item_id"] for e in pool.entries}) == len(pool.entries)  # distinct
    wanted = sum(ready.wants_answer(listing) for _ in range(HARVEST_EVERY * 4))
    assert wanted == 4
    plain = ready._request(ready.by_key["GET /items/{item_id}"], rng, depth=0)
    assert not ready.wants_answer(plain)  # not a source: its answers are never parsed


def test_a_linked_query_parameter_takes_a_harvested_value() -> None:
    orders = op("GET /orders", [variant(user_id="9", page="2")],
                links=[link("user_id", "GET /users", location="query")])  # fmt: skip
    users = op("GET /users", [variant()], harvest={"user_id": ["user_id"]})
    ready = openapi_requests.load(plan(users, orders), headers={})
    rng = random.Random(5)
    ready.harvest(ready._request(ready.by_key["GET /users"], rng, depth=0),
                  answer({"user_id": "u-1"}), rng)  # fmt: skip
    request = ready._request(ready.by_key["GET /orders"], rng, depth=0)
    assert request.url == "/orders?user_id=u-1&page=2"


def test_weights_share_the_requests_and_user_headers_go_on_every_one() -> None:
    health = op("GET /health", [variant()], weight=1)
    heavy = op("GET /heavy", [variant()], weight=3)
    body = Variant(path={}, query=[], headers={"x-tenant": "abc"}, body="{\"a\": \"é\"}",
                   content_type="application/json")  # fmt: skip
    post = op("POST /things", [body], weight=0.5)
    ready = openapi_requests.load(plan(health, heavy, post), headers={"Authorization": "B x"})
    rng = random.Random(6)
    requests = [ready.next_request(rng) for _ in range(9000)]
    share = Counter(r.op.key for r in requests)
    assert share["GET /heavy"] / share["GET /health"] == pytest.approx(3, rel=0.1)
    assert share["POST /things"] / share["GET /health"] == pytest.approx(0.5, rel=0.15)
    assert all(r.headers["Authorization"] == "B x" for r in requests)
    posted = next(r for r in requests if r.op.key == "POST /things")
    assert posted.body == '{"a": "é"}'.encode("latin-1")
    assert posted.headers == {"x-tenant": "abc", "Authorization": "B x",
                              "Content-Type": "application/json"}  # fmt: skip


def test_every_operation_goes_out_once_before_the_weights_choose() -> None:
    light = [op(f"GET /light{n}", [variant()], weight=0.001) for n in range(3)]
    heavy = op("GET /heavy", [variant()], weight=1000)
    ready = openapi_requests.load(plan(heavy, *light), headers={})
    rng = random.Random(7)
    first = [ready.next_request(rng).op.key for _ in range(4)]
    assert first == ["GET /heavy", "GET /light0", "GET /light1", "GET /light2"]
    assert {ready.next_request(rng).op.key for _ in range(20)} == {"GET /heavy"}
