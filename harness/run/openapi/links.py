"""Which earlier answers supply a parameter's values: links inferred by name.

Random ids mostly hit 404, so a path parameter takes, when it can, a value the API itself
returned (the way OpenAPI links and Schemathesis' stateful testing chain operations):

1. from the collection the parameter indexes: ``GET /items`` (or ``POST /items``, when
   writes are allowed) for ``/items/{item_id}``, reading the field ``item_id`` or ``id``;
2. from any other GET whose documented answer has a field of the parameter's name
   (``GET /orders`` answering ``[{"user_id": …}]`` for ``/users/{user_id}``).

A query parameter whose name ends in ``id`` links by rule 2 only.  At run time the
scenario harvests those fields from the answers (lagscope.harness.loadgen.openapi_requests);
a parameter with nothing harvested yet falls back to the plan's generated values.
"""

from __future__ import annotations

from lagscope.harness.run.openapi.schema import OperationSpec

from lagscope.openapi_plan import Link, Source

MAX_SOURCES = 4  # links per parameter: the first sources with values win at run time


def collection_of(path: str, param: str) -> str:
    """The path before ``/{param}``, without a trailing slash: ``/items`` for item_id."""
    return path.split("/{" + param + "}")[0].rstrip("/")


def _links_for(
    op: OperationSpec, name: str, *, location: str, sources: list[OperationSpec]
) -> Link | None:
    found: list[tuple[str, list[str]]] = []
    if location == "path":
        collection = collection_of(op.path, name)
        for method in ("GET", "POST"):
            found += [
                (s.key, [name, "id"])
                for s in sources
                if s.method == method and s.path.rstrip("/") == collection
            ]
    found += [
        (s.key, [name])
        for s in sources
        if s.method == "GET" and name in s.answer_fields and s.key not in {k for k, _ in found}
        and name not in s.path_params()  # it would only echo the value it was sent
    ]  # fmt: skip
    if not found:
        return None
    chosen = [Source(source=key, fields=fields) for key, fields in found[:MAX_SOURCES]]
    return Link(param=name, location=location, sources=chosen)


def infer_links(sendable: list[OperationSpec]) -> dict[str, list[Link]]:
    """Operation key -> the links of its parameters (only sources that are sent count)."""
    links: dict[str, list[Link]] = {}
    for op in sendable:
        found = []
        # The deepest path parameter first: its value comes with the values of the
        # parameters before it (a review with its item), which must not be chosen apart.
        order = {name: -i for i, name in enumerate(op.path_params())}
        for param in sorted(op.params, key=lambda p: order.get(p.name, 1)):
            linkable = param.location == "path" or (
                param.location == "query" and param.name.lower().endswith("id")
            )
            if not linkable or param.examples:
                continue
            link = _links_for(op, param.name, location=param.location, sources=sendable)
            if link is not None:
                found.append(link)
        if found:
            links[op.key] = found
    return links


def harvests(links: dict[str, list[Link]]) -> dict[str, dict[str, list[str]]]:
    """Source operation key -> parameter -> the fields to read from its answers."""
    out: dict[str, dict[str, list[str]]] = {}
    for op_links in links.values():
        for link in op_links:
            for source in link["sources"]:
                fields = out.setdefault(source["source"], {}).setdefault(link["param"], [])
                fields += [f for f in source["fields"] if f not in fields]
    return out
