"""``client_errors``: an endpoint answers a large share of its requests with 4xx.

When a request model changes (a field renamed, made required) the clients that still
send the old shape get 422, and the service looks healthy: no 5xx, no latency.  Counted
per endpoint over the window (``reports.client_errors``: answers the scenario expected,
404s of endpoints with a path parameter and 429s are left out), with the statuses and the
most common validation error of the sampled 422 bodies (FastAPI's ``detail[].loc``).
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.summary_types import EndpointClientErrors
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
        findings.append(
            {
                "kind": "client_errors",
                "severity": "critical" if e["share"] >= CRITICAL_SHARE else "warning",
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
                "remedy": REMEDY,
            }
        )
    return findings
