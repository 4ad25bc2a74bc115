"""``server_errors``: 5xx other than 503 (an exception reached the client); ``load_shedding``:
503s (the service refused work on purpose: a full queue, an open circuit breaker)."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import size

MIN_ERRORS = 5
MIN_SHARE = 0.01
CRITICAL_SHARE = 0.05
LEAKY_BYTES = 1000  # a generic error body is short; a traceback is not
REMEDY = (
    "Map expected errors to 4xx with exception handlers (application/problem+json), and add a "
    "catch-all handler that answers a generic 500 with an error id and logs the traceback on "
    "the server; never send tracebacks to clients."
)


def _frequent(fig: Figures, count: int) -> tuple[int, float] | None:
    """(requests, share) when ``count`` of the window's responses are enough to be a
    finding, else None."""
    total = int(fig.statuses.get("requests", 0))
    share = count / total if total else 0.0
    if count < MIN_ERRORS or share < MIN_SHARE:
        return None
    return total, share


def _most(counts: dict[str, int]) -> str | None:
    """The endpoint with the largest count (the first of a tie), or None."""
    return max(counts, key=lambda k: counts[k]) if counts else None


def server_errors(fig: Figures) -> list[Finding]:
    count = int(fig.statuses.get("server_errors", 0))
    found = _frequent(fig, count)
    if found is None:
        return []
    total, share = found
    eps = fig.statuses.get("endpoints", {})
    endpoint = _most({k: e["server_errors"] for k, e in eps.items()})
    worst = eps.get(endpoint) if endpoint else None
    statuses = ", ".join(f"{n}×{s}" for s, n in sorted(worst["statuses"].items())) if worst else ""
    mean_bytes = float(worst["mean_bytes"] or 0.0) if worst else 0.0
    example = worst["example_error"] if worst else None
    leak = (
        f"; their bodies average {size(mean_bytes)}: check they carry no stack trace"
        if mean_bytes >= LEAKY_BYTES
        else ""
    )
    # What the probe saw escape the app (whole run): the exception, and the user's line.
    kinds = fig.statuses.get("unhandled", [])
    top = kinds[0] if kinds else None
    raised = ""
    if top is not None:
        raised = f"{top['type']}: {top['message']}" if top["message"] else top["type"]
        raised += f" raised at {top['site']}" if top["site"] else ""
    return [
        {
            "kind": "server_errors",
            "severity": "critical" if share >= CRITICAL_SHARE else "warning",
            "summary": f"{count} requests ended in a server error, most on {endpoint}"
            + (f": {raised}." if raised else "."),
            "evidence": (
                f"{count} of {total:,} responses ({share:.1%}) were 5xx other than 503; "
                f"{endpoint}: {worst['server_errors'] if worst else 0} ({statuses}){leak}"
                + (f"; e.g. {example!r}" if example else "")
                + (
                    "; exceptions that escaped the app over the run, by kind: "
                    + ", ".join(
                        f"{k['count']:,}× {k['type']} at {k['site'] or k['endpoint']}"
                        for k in kinds[:3]
                    )  # fmt: skip
                    if kinds
                    else ""
                )
                + "."
            ),
            "location": (top["site"] if top is not None and top["site"] else None)
            or endpoint
            or "<unknown>",
            "endpoint": endpoint,
            "remedy": REMEDY,
        }
    ]


SHED_REMEDY = (
    "A 503 is the service protecting itself: right when the load is a spike it should "
    "survive (clients must retry with backoff and honour Retry-After), wrong when it is the "
    "load it is meant to carry: then add capacity (workers, a faster consumer, a larger "
    "queue bounded by memory) or fix the dependency the circuit breaker is guarding."
)


def load_shedding(fig: Figures) -> list[Finding]:
    """Requests refused with 503: backpressure or a circuit breaker at work, never silence."""
    count = int(fig.statuses.get("shed_503", 0))
    found = _frequent(fig, count)
    if found is None:
        return []
    total, share = found
    eps = fig.statuses.get("shed_endpoints", {})
    endpoint = _most({k: e["shed_503"] for k, e in eps.items()})
    worst = eps.get(endpoint) if endpoint else None
    of_endpoint = (
        f"; {endpoint}: {worst['shed_503']} of its {worst['requests']:,} "
        f"({worst['shed_503'] / worst['requests']:.0%})"
        if worst
        else ""
    )
    return [
        {
            "kind": "load_shedding",
            "severity": "warning",
            "summary": (
                f"The service refused {count} requests with 503"
                + (f", most on {endpoint}" if endpoint else "")
                + ": it shed load, or failed fast on a dependency."
            ),
            "evidence": f"{count} of {total:,} responses ({share:.1%}) were 503{of_endpoint}.",
            "location": endpoint or "<unknown>",
            "endpoint": endpoint,
            "remedy": SHED_REMEDY,
        }
    ]
