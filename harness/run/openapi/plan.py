"""The request plan for an app's schema: which operations are sent, with what, how often.

Every operation is sent unless its method is not allowed (only GET and HEAD by default:
writes go only to an app the user asked to write to), its weight is 0, or no valid
request can be built for it; each skipped one is listed with the reason and, where the
user can change it, how.
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
from lagscope.errors import UsageError
from lagscope.openapi_plan import Operation, Plan, Skipped

NO_VALUES = Drawn(path={}, query={}, headers={}, cookies={}, body=None, content_type=None)


def build_plan(
    document: dict[str, Any],
    *,
    methods: Sequence[str],
    weights: Mapping[str, float],
    seed: int,
    count: int = defaults.OPENAPI_VARIANTS,
) -> Plan:
    """The plan for the OpenAPI ``document`` (raises UsageError for a weight of no operation)."""
    specs = operations(document)
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
    drawn = generate(document, wanted, count=count, seed_=seed) | bare
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
        found=len(specs),
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
    (``"/items"``, every method); a name that matches nothing is a UsageError."""
    out = {spec.key: 1.0 for spec in specs}
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


def refusal(plan: Plan, *, app: str) -> str | None:
    """Why nothing can be sent, naming what was found and what to do; None when something can."""
    if plan["operations"]:
        return None
    if not plan["found"]:
        return f"{app}'s OpenAPI schema has no operation; pass --scenario with a locustfile"
    held = Counter(s["key"].split(" ")[0] for s in plan["skipped"] if "--methods" in s["reason"])
    found = f"{plan['found']} operation{'s' if plan['found'] != 1 else ''}"
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
