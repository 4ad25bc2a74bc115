"""``connection_pool_exhaustion``: every DB connection checked out, requests queueing for one."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.rules.common import (
    LOOP_BLOCKED_SHARE,
    exhausted,
    loop_blocked_share,
    where,
    workers,
    worst_endpoint,
)

REMEDY = (
    "Close every session on every path: make the session dependency `yield` inside "
    "`async with sessionmaker() as session:` (never `return` a session), and use `async with` "
    "for ad-hoc sessions; if nothing leaks, size the pool to the concurrency and hold no "
    "connection across slow calls."
)


def connection_pool_exhaustion(fig: Figures) -> list[Finding]:
    findings: list[Finding] = []
    failures = int(fig.requests.get("aggregate", {}).get("failures", 0))
    loop_blocked = loop_blocked_share(fig) >= LOOP_BLOCKED_SHARE
    for pid, w in workers(fig):
        db = w.get("db", {})
        if not exhausted(db):
            continue
        never_back = db.get("busy_min_after_saturation") == db["capacity"]
        if loop_blocked and not failures and not db.get("held_site"):
            # Requests that hold a connection cannot finish while the loop is blocked, so
            # the pool fills behind the stalls: event_loop_blocking names the cause, and a
            # larger pool would not help.  A leak shows as sessions still open 2 s after
            # they opened (held_site), or as requests failing for want of a connection;
            # "never back" alone is no proof here: the sampler runs on the same loop, so
            # it only looks between stalls, when the pool is at its fullest.
            continue
        # Where the sessions that hold connections were opened names a leak; where
        # requests wait for a connection is only where it hurts.
        held_site = db.get("held_site") if never_back else None
        endpoint = worst_endpoint(fig)
        leak = (
            " Once full, the pool never had a connection back: they are leaked, not just busy"
            + (f", by sessions opened at {held_site} and never closed." if held_site else ".")
            if never_back
            else ""
        )
        findings.append(
            {
                "kind": "connection_pool_exhaustion",
                "severity": "critical" if failures or never_back else "warning",
                "summary": (
                    f"The DB connection pool ({db.get('dialects') or 'SQLAlchemy'}) of worker "
                    f"{pid} ran out of connections; requests queued for one.{leak}"
                ),
                "evidence": (
                    f"all {db['capacity']} connections checked out in "
                    f"{db['saturated_share']:.0%} of {w['samples']} samples; up to "
                    f"{db['waiting_max']} callers waiting for a connection (in "
                    f"{db['waiting_share']:.0%} of samples); {failures} failed requests"
                    + (f", most on {endpoint}" if endpoint and failures else "")
                    + (
                        f"; pending tasks waited at {db['wait_site']}"
                        if db.get("wait_site")
                        else ""
                    )
                    + (
                        f"; up to {db.get('held_max')} sessions opened at {held_site} were "
                        "still in a transaction 2 s or more later"
                        if held_site
                        else ""
                    )
                    + "."
                ),
                "location": held_site or where(db.get("wait_site"), endpoint),
                "endpoint": endpoint,
                "remedy": REMEDY,
            }
        )
    return findings
