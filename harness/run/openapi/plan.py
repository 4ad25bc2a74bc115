"""The request plan for an app's schema: which operations are sent, with what, how often.

Every operation is sent unless its method is not allowed, its weight is 0, or no valid
request can be built for it; each skipped one is listed with the reason and, where the
user can change it, how.  The methods allowed are those of ``--methods``; without it,
GET and HEAD (writes go only to an app the user asked to write to), unless the schema has
no GET or HEAD operation at all: then its operations are sent, as the plan's ``choice``
says (the user ran lagscope on this app to load it, and there is nothing else to send).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lagscope.harness.run.openapi import links as linking
from lagscope.harness.run.openapi.encode import variant
from lagscope.harness.run.openapi.schema import OperationSpec, operations
from lagscope.harness.run.openapi.values import Drawn, generate

from lagscope import defaults
from lagscope.app_routes import Served
from lagscope.errors import UsageError
from lagscope.openapi_plan import METHODS, Operation, Plan, Skipped

NO_VALUES = Drawn(path={}, query={}, headers={}, cookies={}, body=None, content_type=None)


def build_plan(
    document: dict[str, Any],
    *,
    methods: Sequence[str] | None,
    weights: Mapping[str, float],
    seed: int,
    count: int = defaults.OPENAPI_VARIANTS,
) -> Plan:
    """The plan for the OpenAPI ``document``; ``methods`` None: chosen as the module
    docstring says (raises UsageError for a weight of no operation)."""
    specs = operations(document)
    choice = None
    if methods is None:
        methods, choice = choose_methods(specs)
    plan = plan_specs(
        specs, document, found=len(specs), methods=methods, weights=weights, seed=seed,
        count=count,
    )  # fmt: skip
    if choice is not None:
        plan["choice"] = choice
    return plan


def choose_methods(specs: Sequence[OperationSpec]) -> tuple[tuple[str, ...], str | None]:
    """The methods sent without ``--methods``, and why when they are not GET and HEAD."""
    have = {spec.method for spec in specs}
    if not have or have & set(defaults.OPENAPI_METHODS):
        return defaults.OPENAPI_METHODS, None
    chosen = tuple(m for m in METHODS if m in have)
    names, verb = ",".join(chosen), "is" if len(specs) == 1 else "are"
    return chosen, (
        f"the schema has no GET or HEAD operation, so its {plural(len(specs), 'operation')} "
        f"({names}) {verb} sent; pass --methods to choose"
    )


def plan_specs(
    specs: list[OperationSpec],
    document: dict[str, Any],
    *,
    found: int,
    methods: Sequence[str],
    weights: Mapping[str, float],
    seed: int,
    count: int = defaults.OPENAPI_VARIANTS,
) -> Plan:
    """The plan for ``specs`` (operations of ``document``, or pages outside it); ``found``:
    the operations in the schema."""
    weight_of = resolve_weights(weights, specs)
    skipped: list[Skipped] = []
    candidates = []
    for spec in specs:
        reason = _static_skip(spec, methods=methods, weight=weight_of[spec.key])
        if reason is None:
            candidates.append(spec)
        else:
            skipped.append(Skipped(key=spec.key, reason=reason))
    started = time.perf_counter()
    # An operation without parameters or body has one request: nothing to generate.
    bare = {s.key: [NO_VALUES] for s in candidates if not s.params and s.body is None}
    wanted = [s.key for s in candidates if s.key not in bare]
    drawn = (generate(document, wanted, count=count, seed_=seed) if wanted else {}) | bare
    generation_ms = (time.perf_counter() - started) * 1000
    sendable = []
    for spec in candidates:
        got = drawn[spec.key]
        if isinstance(got, str) or not got:
            why = got if isinstance(got, str) else "Schemathesis generated none"
            skipped.append(Skipped(key=spec.key, reason=f"no valid request: {why}"))
        else:
            sendable.append(spec)
    links = linking.infer_links(sendable)
    harvests = linking.harvests(links)
    sent = [
        Operation(
            key=spec.key,
            method=spec.method,
            path=spec.path,
            weight=weight_of[spec.key],
            variants=[variant(d) for d in drawn[spec.key] if not isinstance(d, str)],
            links=links.get(spec.key, []),
            harvest=harvests.get(spec.key, {}),
        )  # fmt: skip
        for spec in sendable
    ]
    order = {spec.key: i for i, spec in enumerate(specs)}
    return Plan(
        found=found,
        methods=list(methods),
        operations=sent,
        skipped=sorted(skipped, key=lambda s: order[s["key"]]),
        generation_ms=round(generation_ms, 1),
    )


def _static_skip(spec: OperationSpec, *, methods: Sequence[str], weight: float) -> str | None:
    if spec.method not in methods:
        return f"{spec.method} is not sent unless asked: pass --methods {spec.method} (or all)"
    if weight <= 0:
        return "weight 0 (--weights)"
    return spec.unsupported


def resolve_weights(weights: Mapping[str, float], specs: list[OperationSpec]) -> dict[str, float]:
    """Each operation's weight: 1 unless ``weights`` names it (``"GET /items"``) or its path
    (``"/items"``, every method); a name that matches nothing is a UsageError (unless there
    is nothing: an empty schema's pages are weighed apart, lagscope.app_routes)."""
    out = {spec.key: 1.0 for spec in specs}
    if not specs:
        return out
    for name, weight in weights.items():
        matched = [s.key for s in specs if name in (s.key, s.path)]
        if not matched:
            known = ", ".join(spec.key for spec in specs[:6]) + (", ..." if len(specs) > 6 else "")
            raise UsageError(
                f"--weights names {name!r}, which is no operation of the app's schema "
                f"(its operations: {known or 'none'})"
            )
        for key in matched:
            out[key] = weight
    return out


def pages_plan(served: Served, *, weights: Mapping[str, float]) -> Plan | None:
    """For an app whose schema has no operation: its GET pages outside the schema (routes
    and static files, lagscope.app_routes), each with one request; None when it has none."""
    paths = [*served["pages"], *served["static"]]
    if not paths:
        return None
    specs = [OperationSpec(method="GET", path=path, params=(), body=None,
                           answer_fields=frozenset()) for path in paths]  # fmt: skip
    plan = plan_specs(specs, {}, found=0, methods=("GET",), weights=weights, seed=0)
    routes, files = len(served["pages"]), len(served["static"])
    what = " and ".join(
        text for n, text in ((routes, plural(routes, "GET route")),
                             (files, plural(files, "static file"))) if n
    )  # fmt: skip
    plan["choice"] = (
        f"the schema has no operation, so the {what} the app serves outside it "
        f"({_names(paths)}) {'is' if len(paths) == 1 else 'are'} sent"
    )
    return plan


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _names(items: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def refusal(plan: Plan, *, app: str, served: Served | None = None) -> str | None:
    """Why nothing can be sent, naming what was found (in the schema, and ``served``
    outside it) and what to do; None when something can."""
    if plan["operations"]:
        return None
    if not plan["found"] and not plan["skipped"]:
        return (
            f"{app}: nothing to load: its OpenAPI schema has no operation and "
            f"{_outside(served)}; pass --scenario with a locustfile"
        )
    held = Counter(s["key"].split(" ")[0] for s in plan["skipped"] if "--methods" in s["reason"])
    found = plural(plan["found"], "operation")
    if sum(held.values()) == plan["found"]:
        kinds = ", ".join(f"{n} {m}" for m, n in held.items()) if len(held) > 1 else ""
        names = ",".join(held)
        every = f"all {names}" if len(held) == 1 else f"none GET or HEAD ({kinds})"
        return f"{app}: {found}, {every}: pass --methods {names} to send them"
    reasons = "; ".join(f"{s['key']}: {s['reason']}" for s in plan["skipped"][:3])
    more = f" (and {len(plan['skipped']) - 3} more)" if len(plan["skipped"]) > 3 else ""
    return (
        f"{app}: {found}, none can be sent ({reasons}{more}); "
        "pass --methods or --weights, or --scenario with a locustfile"
    )


def _outside(served: Served | None) -> str:
    if served is None:
        return "its routes could not be read"
    kinds = [
        (served["websockets"], "WebSocket route"),
        (served["with_params"], "GET route that needs parameters"),
        (served["other"], "non-GET route"),
    ]
    found = [f"{plural(len(paths), noun)} ({_names(paths)})" for paths, noun in kinds if paths]
    if not found:
        return "the app serves nothing but its documentation"
    return f"outside it the app serves only {', '.join(found)}, nothing lagscope can send"
