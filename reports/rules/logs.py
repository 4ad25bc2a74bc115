"""``log_flood``: the service writes many log records (or bytes) per request it serves."""

from __future__ import annotations

import statistics

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import size, workers

MIN_RECORDS_PER_REQUEST = 5.0  # an access line or two per request is normal
MIN_RECORDS_PER_S = 100.0
MIN_BYTES_PER_S = 1e6
REMEDY = (
    "Log one line per request at INFO, sample or drop DEBUG in production and never log "
    "whole payloads; hand records to a `QueueHandler` so a background thread does the writing."
)


def log_flood(fig: Figures) -> list[Finding]:
    ws = [(pid, w) for pid, w in workers(fig) if w.get("logs")]
    if not ws:
        return []
    records = sum(w["logs"]["records"] for _, w in ws)
    nbytes = sum(w["logs"]["bytes"] for _, w in ws)
    per_s = sum(w["logs"]["records_per_s"] for _, w in ws)
    bytes_per_s = sum(w["logs"]["bytes_per_s"] for _, w in ws)
    served = int(fig.requests.get("aggregate", {}).get("count", 0))
    per_request = records / served if served else 0.0
    many = per_request >= MIN_RECORDS_PER_REQUEST and per_s >= MIN_RECORDS_PER_S
    if not (many or bytes_per_s >= MIN_BYTES_PER_S):
        return []
    sources = [w["logs"].get("top_source") for _, w in ws if w["logs"].get("top_source")]
    source = statistics.mode(sources) if sources else None
    return [
        {
            "kind": "log_flood",
            "severity": "warning",
            "summary": (
                f"The service logs {per_request:.0f} records per request"
                + (f", most from {source}" if source else "")
                + "."
            ),
            "evidence": (
                f"{records:,} log records ({per_s:,.0f}/s, {per_request:.1f} per request over "
                f"{served:,} requests), {size(nbytes)} formatted ({size(bytes_per_s)}/s)"
                + (f"; top source {source}" if source else "")
                + "."
            ),
            "location": source or "<logging>",
            "endpoint": None,
            "remedy": REMEDY,
        }
    ]
