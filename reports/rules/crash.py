"""``target_crashed``: the target's server process died while the load ran."""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding


def target_crashed(fig: Figures) -> list[Finding]:
    """The target's server process died while the load ran."""
    if fig.run.get("outcome") != "target_crashed":
        return []
    agg = fig.requests.get("aggregate", {})
    return [
        {
            "kind": "target_crashed",
            "severity": "critical",
            "summary": "The target server exited during the load; the run was cut short.",
            "evidence": (
                f"exit code {fig.run.get('target_exit_code')}; {agg.get('failures', 0)} of "
                f"{agg.get('count', 0)} requests failed. The last lines of logs/target.log say why."
            ),
            "location": "logs/target.log",
            "remedy": (
                "Read logs/target.log for the exception or signal; an exit from the OOM killer "
                "shows as -9 (check RSS in the resources section)."
            ),
        }
    ]
