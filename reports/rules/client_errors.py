"""``client_errors``: an endpoint answers a large share of its requests with 4xx.

When a request model changes (a field renamed, made required) the clients that still
send the old shape get 422, and the service looks healthy: no 5xx, no latency.  Counted
per endpoint over the window (``reports.client_errors``: answers the scenario expected,
404s of endpoints with a path parameter and 429s are left out), with the statuses and the
most common validation error of the sampled 422 bodies (FastAPI's ``detail[].loc``).

Not every 4xx is drift.  Mostly 401/403: the load lacks the credentials the endpoint
asks for (a schema's ``security``), which is the load's set-up, not the app's fault: a
warning that says how to pass them.  Mostly 409: the load replays values a unique field
already holds.  Either way the API-versioning remedy would send the user the wrong way.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.summary_types import EndpointClientErrors, Severity
from lagscope.reports.wording import plural

MIN_ERRORS = 5
MIN_SHARE = 0.1  # of the endpoint's requests
CRITICAL_SHARE = 0.5
REMEDY = (
    "Clients send what the API no longer accepts: version the API (keep the old request "
    "model on the old path or version until clients move) or accept both names of a renamed "
    "field for a deprecation period (pydantic: `Field(validation_alias=AliasChoices('new', "
    "'old'))`); a 422 body's `detail[].loc` names the field."
)

AUTH = frozenset({401, 403})
CONFLICT = frozenset({409})
AUTH_REMEDY = (
    "The endpoint refused the load's credentials: it sent none, or not the ones this "
    "endpoint needs. Give them to the load: `--header 'Authorization: Bearer TOKEN'` (the "
    "openapi scenario sends it with every request), or log in from your locustfile's "
    "`on_start`; if real clients are refused too, check the endpoint's auth dependency."
)
CONFLICT_REMEDY = (
    "The endpoint answered 409 Conflict: the load sent values a unique field already "
    "holds (a username, an email, an id it created before). Make them unique per request "
    "in your locustfile (e.g. `uuid.uuid4().hex` in the name); if real clients see 409s, "
    "the endpoint may need to be idempotent (return the existing resource)."
)


def _mostly(figures: EndpointClientErrors, codes: frozenset[int]) -> bool:
    """Whether more than half of the endpoint's client errors have one of ``codes``."""
    hits = sum(n for status, n in figures["statuses"].items() if int(status) in codes)
    return 2 * hits > figures["client_errors"]


def _statuses(figures: EndpointClientErrors) -> str:
    return ", ".join(f"{n}×{s}" for s, n in sorted(figures["statuses"].items()))


def _left_out(left: dict[str, int]) -> str:
    parts = [
        (left.get("expected", 0), "answers the scenario expected"),
        (left.get("missing_resource", 0), "404s of endpoints with a path parameter (missing ids)"),
        (left.get("rate_limited", 0), "429s"),
    ]
    said = [f"{n:,} {what}" for n, what in parts if n]
    return f"; not counted: {', '.join(said)}" if said else ""


def client_errors(fig: Figures) -> list[Finding]:
    figures = fig.client_errors
    findings: list[Finding] = []
    for endpoint, e in sorted(
        figures.get("endpoints", {}).items(), key=lambda kv: -kv[1]["client_errors"]
    ):
        if e["client_errors"] < MIN_ERRORS or e["share"] < MIN_SHARE:
            continue
        check = e.get("validation")
        field = (
            f": the request fails validation at `{check['loc']}` ({check['msg']})" if check else ""
        )
        severity: Severity = "critical" if e["share"] >= CRITICAL_SHARE else "warning"
        remedy = REMEDY
        if _mostly(e, AUTH):
            severity, remedy, field = "warning", AUTH_REMEDY, ": it asks for credentials"
        elif _mostly(e, CONFLICT):
            severity, remedy, field = "warning", CONFLICT_REMEDY, ": a conflict with its data"
        findings.append(
            {
                "kind": "client_errors",
                "severity": severity,
                "summary": (
                    f"{endpoint} answered {e['share']:.0%} of its requests with a client error "
                    f"({_statuses(e)}){field}."
                ),
                "evidence": (
                    f"{e['client_errors']:,} of {plural(e['requests'], 'request')} to "
                    f"{endpoint} got 4xx ({_statuses(e)})"
                    + (
                        f"; the most common validation error, in {check['bodies']} of the "
                        f"{check['of']} sampled 422 bodies: loc `{check['loc']}`, "
                        f"{check['msg']!r}"
                        if check
                        else ""
                    )
                    + f"; {figures['client_errors']:,} client errors in all over "
                    f"{plural(figures['requests'], 'response')}"
                    + _left_out(figures.get("left_out", {}))
                    + "."
                ),
                "location": endpoint,
                "endpoint": endpoint,
                "remedy": remedy,
            }
        )
    return findings
