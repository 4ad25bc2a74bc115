"""Inside Locust: the next request of the ``openapi`` scenario, from the plan the harness built.

Each operation goes out once first, in the plan's order, and then by weight: an app slow
enough to answer only a few requests in the run (one that blocks its loop for a second
per request) still shows every operation.  Per request the work is a weighted choice, a
random variant and, for an operation with
linked parameters, a look-up in the pools of values harvested from earlier answers
(lagscope.harness.run.openapi.links).  Answers are parsed only for operations that are
sources, and once a pool is full only one answer in ``HARVEST_EVERY``: the generator must
not be what limits the load (benchmarks/openapi_generator.py measures it).

Nothing here imports Locust: the scenario sends what ``next_request`` returns.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from lagscope.openapi_plan import Operation, Plan, Variant

POOL_SIZE = 256  # values kept per (source, parameter); a full pool replaces one at random
HARVEST_EVERY = 16  # a settled pool still reads one answer in this many (data changes)
STALE_AFTER = 3  # answers in a row that brought nothing new settle a pool that is not full
PRIME_TRIES = 3  # per source and process: a linked operation sends its empty source first
MAX_OBJECTS = 64  # objects of one answer searched for fields
MAX_DEPTH = 3  # how deep in an answer objects are searched


@dataclass(slots=True)
class Request:
    """What the scenario sends, and what it must hand back with the answer."""

    op: OperationRun
    method: str
    url: str
    name: str  # the path template: the endpoint's name in every table
    headers: dict[str, str]
    body: bytes | None
    bindings: dict[str, str]  # the path values used, kept with values harvested from it


@dataclass(slots=True)
class LinkRun:
    """A link with its pools' keys worked out once."""

    param: str
    in_query: bool
    pools: list[tuple[str, str]]  # (source key, param), in the link's order
    sources: list[str]


@dataclass(slots=True)
class OperationRun:
    key: str
    method: str
    path: str
    variants: list[Variant]
    urls: list[str]  # each variant's URL as generated
    queries: list[str]  # each variant's query string ("" or "?a=1&b=2")
    bodies: list[bytes | None]
    headers: list[dict[str, str]]
    links: list[LinkRun]
    harvest: dict[str, list[str]]
    format_path: Callable[[dict[str, str]], str]  # the template filled with encoded values
    answers: int = 0


@dataclass
class Pool:
    """Distinct values harvested for one parameter from one source."""

    entries: list[dict[str, str]] = field(default_factory=list)
    seen: set[tuple[tuple[str, str], ...]] = field(default_factory=set)
    stale: int = 0  # answers in a row that added nothing

    @property
    def settled(self) -> bool:
        return len(self.entries) >= POOL_SIZE or self.stale >= STALE_AFTER

    def add(self, entries: list[dict[str, str]], rng: random.Random) -> None:
        added = 0
        for entry in entries:
            key = tuple(sorted(entry.items()))
            if key in self.seen:
                continue
            added += 1
            self.seen.add(key)
            if len(self.entries) < POOL_SIZE:
                self.entries.append(entry)
            else:
                at = rng.randrange(POOL_SIZE)
                self.seen.discard(tuple(sorted(self.entries[at].items())))
                self.entries[at] = entry
        self.stale = 0 if added else self.stale + 1


@dataclass
class Requests:
    """The plan's operations and the values harvested in this load-generator process."""

    ops: list[OperationRun]
    weights: list[float]  # cumulative
    by_key: dict[str, OperationRun]
    pools: dict[tuple[str, str], Pool] = field(default_factory=dict)
    primed: dict[str, int] = field(default_factory=dict)
    even: bool = False  # every weight alike: a plain index picks the operation
    unsent: list[OperationRun] = field(default_factory=list)  # sent once first, in order

    def next_request(self, rng: random.Random) -> Request:
        """The next request: an operation not sent yet, else one by weight; one of its
        variants; linked values."""
        ops = self.ops
        if self.unsent:
            op = self.unsent.pop(0)
        elif self.even:
            op = ops[int(rng.random() * len(ops))]
        else:
            op = ops[bisect_right(self.weights, rng.random() * self.weights[-1])]
        return self._request(op, rng, depth=0)

    def _request(self, op: OperationRun, rng: random.Random, *, depth: int) -> Request:
        index = int(rng.random() * len(op.variants))
        variant = op.variants[index]
        if not op.links:
            return Request(op, op.method, op.urls[index], op.path, op.headers[index],
                           op.bodies[index], variant["path"])  # fmt: skip
        path = variant["path"]
        bound: set[str] = set()
        query: dict[str, str] | None = None
        for link in op.links:
            if link.param in bound:
                continue
            entry = self._entry(link, rng)
            if entry is None:
                source = self._source_to_prime(link, depth)
                if source is not None:
                    return self._request(source, rng, depth=depth + 1)
                continue
            if link.in_query:
                query = {**(query or {}), link.param: entry[link.param]}
                continue
            if not bound:
                path = dict(path)
            for name, value in entry.items():
                if name in path and name not in bound:
                    path[name] = value
                    bound.add(name)
        url = op.format_path(path)
        if query is None:
            url += op.queries[index]
        else:
            pairs = [(name, query.get(name, value)) for name, value in variant["query"]]
            url += f"?{urlencode(pairs)}" if pairs else ""
        return Request(op, op.method, url, op.path, op.headers[index], op.bodies[index], path)

    def _entry(self, link: LinkRun, rng: random.Random) -> dict[str, str] | None:
        for key in link.pools:
            pool = self.pools.get(key)
            if pool is not None and pool.entries:
                return pool.entries[int(rng.random() * len(pool.entries))]
        return None

    def _source_to_prime(self, link: LinkRun, depth: int) -> OperationRun | None:
        if depth >= 2:
            return None
        for source in link.sources:
            op = self.by_key.get(source)
            if op is not None and self.primed.get(op.key, 0) < PRIME_TRIES:
                self.primed[op.key] = self.primed.get(op.key, 0) + 1
                return op
        return None

    def wants_answer(self, request: Request) -> bool:
        """Whether the scenario should hand this request's answer to ``harvest``."""
        op = request.op
        if not op.harvest:
            return False
        op.answers += 1
        pools = [self.pools.get((op.key, param)) for param in op.harvest]
        settled = all(pool is not None and pool.settled for pool in pools)
        return not settled or op.answers % HARVEST_EVERY == 0

    def harvest(self, request: Request, body: bytes, rng: random.Random) -> None:
        """Keep the linked fields of a JSON answer to ``request`` in the pools."""
        if not body:
            return
        try:
            answer = json.loads(body)
        except ValueError:
            return
        objects = _objects(answer)
        for param, fields in request.op.harvest.items():
            entries = []
            for obj in objects:
                value = next((obj[f] for f in fields if _scalar(obj.get(f))), None)
                if value is not None:
                    entries.append({**request.bindings, param: _text(value)})
            self.pools.setdefault((request.op.key, param), Pool()).add(entries, rng)


def load(plan: Plan, *, headers: dict[str, str]) -> Requests:
    """The plan made ready to send, with the user's ``headers`` (``--header``) on every request."""
    ops = [_prepare(op, headers) for op in plan["operations"]]
    total, cumulative = 0.0, []
    for op in plan["operations"]:
        total += op["weight"]
        cumulative.append(total)
    weights = {op["weight"] for op in plan["operations"]}
    return Requests(ops=ops, weights=cumulative, by_key={op.key: op for op in ops},
                    even=len(weights) == 1, unsent=list(ops))  # fmt: skip


def _prepare(op: Operation, user_headers: dict[str, str]) -> OperationRun:
    links = [
        LinkRun(param=link["param"], in_query=link["location"] == "query",
                pools=[(s["source"], link["param"]) for s in link["sources"]],
                sources=[s["source"] for s in link["sources"]])
        for link in op["links"]
    ]  # fmt: skip
    run = OperationRun(
        key=op["key"], method=op["method"], path=op["path"], variants=op["variants"], urls=[],
        queries=[], bodies=[], headers=[], links=links, harvest=op["harvest"],
        format_path=_formatter(op["path"]),
    )  # fmt: skip
    for variant in op["variants"]:
        query = urlencode([(name, value) for name, value in variant["query"]])
        run.queries.append(f"?{query}" if query else "")
        run.urls.append(run.format_path(variant["path"]) + run.queries[-1])
        body = variant["body"]
        run.bodies.append(None if body is None else body.encode("latin-1"))
        sent = {**variant["headers"], **user_headers}
        if variant["content_type"]:
            sent["Content-Type"] = variant["content_type"]
        run.headers.append(sent)
    return run


def _formatter(template: str) -> Callable[[dict[str, str]], str]:
    """Fill ``template``'s parameters: str.format_map when every name is a plain one (the
    common case, and the fast one), else part by part."""
    parts = [(part[1:-1], True) if part.startswith("{") and part.endswith("}") else (part, False)
             for part in template.split("/")]  # fmt: skip
    if all(name.isidentifier() for name, is_param in parts if is_param):
        return template.format_map

    def fill(values: dict[str, str]) -> str:
        return "/".join(values[name] if is_param else name for name, is_param in parts)

    return fill


def _objects(answer: Any) -> list[dict[str, Any]]:
    """The objects of a JSON answer, breadth first, at most MAX_OBJECTS."""
    found: list[dict[str, Any]] = []
    level = [answer]
    for _ in range(MAX_DEPTH):
        nested: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                found.append(node)
                nested += [v for v in node.values() if isinstance(v, dict | list)]
            elif isinstance(node, list):
                nested += node[:MAX_OBJECTS]
            if len(found) >= MAX_OBJECTS:
                return found
        level = nested
    return found


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _text(value: Any) -> str:
    from urllib.parse import quote

    return quote(value if isinstance(value, str) else json.dumps(value), safe="")
