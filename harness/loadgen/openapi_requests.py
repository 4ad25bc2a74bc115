"""Inside Locust: the next request of the ``openapi`` scenario, from the plan the harness built.

Per request the work is a weighted choice, a random variant and, for an operation with
linked parameters, a look-up in the pools of values harvested from earlier answers
(lagscope.harness.run.openapi.links).  Answers are parsed only for operations that are
sources, and once a pool is full only one answer in ``HARVEST_EVERY``: the generator must
not be what limits the load (benchmarks/openapi_generator.py measures it).

Nothing here imports Locust: the scenario sends what ``next_request`` returns.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from lagscope.openapi_plan import Link, Operation, Plan, Variant

POOL_SIZE = 256  # values kept per (source, parameter); a full pool replaces one at random
HARVEST_EVERY = 16  # a settled pool still reads one answer in this many (data changes)
STALE_AFTER = 3  # answers in a row that brought nothing new settle a pool that is not full
PRIME_TRIES = 3  # per source and process: a linked operation sends its empty source first
MAX_OBJECTS = 64  # objects of one answer searched for fields
MAX_DEPTH = 3  # how deep in an answer objects are searched


@dataclass(frozen=True)
class Request:
    """What the scenario sends, and what it must hand back with the answer."""

    op: OperationRun
    method: str
    url: str
    name: str  # the path template: the endpoint's name in every table
    headers: dict[str, str]
    body: bytes | None
    bindings: dict[str, str]  # the path values used, kept with values harvested from it


@dataclass
class OperationRun:
    key: str
    method: str
    path: str
    variants: list[Variant]
    urls: list[str]  # each variant's URL as generated
    bodies: list[bytes | None]
    headers: list[dict[str, str]]
    links: list[Link]
    harvest: dict[str, list[str]]
    segments: list[tuple[str, bool]]  # the template as (text, is_parameter) parts
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
    weights: list[float]
    by_key: dict[str, OperationRun]
    pools: dict[tuple[str, str], Pool] = field(default_factory=dict)
    primed: dict[str, int] = field(default_factory=dict)

    def next_request(self, rng: random.Random) -> Request:
        """The next request: an operation by weight, one of its variants, linked values."""
        op = (
            rng.choices(self.ops, cum_weights=self.weights)[0] if len(self.ops) > 1 else self.ops[0]
        )
        return self._request(op, rng, depth=0)

    def _request(self, op: OperationRun, rng: random.Random, *, depth: int) -> Request:
        index = rng.randrange(len(op.variants))
        variant = op.variants[index]
        if not op.links:
            return Request(op, op.method, op.urls[index], op.path, op.headers[index],
                           op.bodies[index], variant["path"])  # fmt: skip
        bindings: dict[str, str] = {}
        query: dict[str, str] = {}
        for link in op.links:
            if link["param"] in bindings or link["param"] in query:
                continue
            entry = self._entry(link, rng)
            if entry is None:
                source = self._source_to_prime(link, depth)
                if source is not None:
                    return self._request(source, rng, depth=depth + 1)
                continue
            if link["location"] == "query":
                query[link["param"]] = entry[link["param"]]
            else:
                bindings.update({k: v for k, v in entry.items() if k in variant["path"]
                                 and k not in bindings})  # fmt: skip
        path = {**variant["path"], **bindings}
        return Request(op, op.method, _url(op, path, variant["query"], query), op.path,
                       op.headers[index], op.bodies[index], path)  # fmt: skip

    def _entry(self, link: Link, rng: random.Random) -> dict[str, str] | None:
        for source in link["sources"]:
            pool = self.pools.get((source["source"], link["param"]))
            if pool is not None and pool.entries:
                return pool.entries[rng.randrange(len(pool.entries))]
        return None

    def _source_to_prime(self, link: Link, depth: int) -> OperationRun | None:
        if depth >= 2:
            return None
        for source in link["sources"]:
            op = self.by_key.get(source["source"])
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
    return Requests(ops=ops, weights=cumulative, by_key={op.key: op for op in ops})


def _prepare(op: Operation, user_headers: dict[str, str]) -> OperationRun:
    segments = [
        (part[1:-1], True) if part.startswith("{") and part.endswith("}") else (part, False)
        for part in op["path"].split("/")
    ]
    run = OperationRun(
        key=op["key"], method=op["method"], path=op["path"], variants=op["variants"], urls=[],
        bodies=[], headers=[], links=op["links"], harvest=op["harvest"], segments=segments,
    )  # fmt: skip
    for variant in op["variants"]:
        run.urls.append(_url(run, variant["path"], variant["query"], {}))
        body = variant["body"]
        run.bodies.append(None if body is None else body.encode("latin-1"))
        sent = {**variant["headers"], **user_headers}
        if variant["content_type"]:
            sent["Content-Type"] = variant["content_type"]
        run.headers.append(sent)
    return run


def _url(
    op: OperationRun,
    path: dict[str, str],
    query: list[tuple[str, str]] | list[list[str]],
    overrides: dict[str, str],
) -> str:
    url = "/".join(path.get(text, "") if is_param else text for text, is_param in op.segments)
    pairs = [(name, overrides.get(name, value)) for name, value in query]
    return f"{url}?{urlencode(pairs)}" if pairs else url


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
