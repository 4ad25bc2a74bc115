"""``no_requests``: the run collected nothing to judge, most often because the target never
started (an import error, a missing setting, a port in use); its log says why."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.wording import plural


def no_requests(fig: Figures) -> list[Finding]:
    """A critical finding when the steady window holds no request at all.

    A run that measured nothing must not read "No findings". A target that crashed
    mid-load has its own finding (``target_crashed``), which already points to its log.
    """
    if fig.requests.get("aggregate", {}).get("count") or fig.run.get("outcome") == (
        "target_crashed"
    ):
        return []
    run_dir = fig.run.get("dir") or "."
    refused = fig.run.get("refused")
    if refused:
        return [{
            "kind": "no_requests",
            "severity": "critical",
            "summary": f"The run was refused before any load was sent: {refused}",
            "evidence": "outcome refused; the reason is the run_refused event of events.jsonl.",
            "location": "events.jsonl",
            "remedy": "Do what the reason says, then run again.",
        }]  # fmt: skip
    heartbeats = int(fig.loop.get("heartbeats") or 0)
    started = bool(fig.run.get("target_ready")) or heartbeats > 0
    measured = f"0 requests and {plural(heartbeats, 'heartbeat')} recorded"
    last = f"; logs/target.log ends: {fig.target_log}" if fig.target_log else ""
    if not started:
        return [{
            "kind": "no_requests",
            "severity": "critical",
            "summary": (
                f"The run collected no requests: the target never started serving. Its log "
                f"says why: {run_dir}/logs/target.log."
            ),
            "evidence": f"outcome {fig.run.get('outcome')}; {measured}{last}.",
            "location": "logs/target.log",
            "remedy": (
                "Fix what logs/target.log reports (an import error, a missing setting or "
                "environment variable, a port in use), check the app starts with uvicorn on "
                "its own, then run again."
            ),
        }]  # fmt: skip
    return [{
        "kind": "no_requests",
        "severity": "critical",
        "summary": (
            "The run collected no requests in its steady window: there is nothing to judge. "
            f"See {run_dir}/logs/locust.log and {run_dir}/logs/target.log."
        ),
        "evidence": f"outcome {fig.run.get('outcome')}; {measured}{last}.",
        "location": "logs/locust.log",
        "remedy": (
            "Read logs/locust.log for the load generator's errors (a scenario that raises, "
            "paths the app does not serve); a run stopped during ramp-up has no steady "
            "window: run it longer."
        ),
    }]  # fmt: skip
