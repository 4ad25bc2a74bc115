"""Self-checks of runs beyond one machine: an external target's inside view, lost load workers.

Pure functions of run.json's config, the workers the probe data came from and the events;
each returns warnings ``{kind, message}`` shown with the other self-checks.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from lagscope.reports.summary_types import SelfCheck


def inside_view_missing(config: dict[str, Any], *, probed_workers: int) -> list[SelfCheck]:
    """Warn when an external target (``--target``) gave no probe data: latency only."""
    if not config.get("target") or probed_workers:
        return []
    if config.get("probe_token"):
        why = (
            "the target's probe answered nothing: check that it runs "
            "instrument(app, probe_token=...) with the token given to --probe-token"
        )
    else:
        why = (
            "no --probe-token was given: run the target with instrument(app, probe_token=...) "
            "and pass the same token to --probe-token"
        )
    return [{
        "kind": "inside_view_missing",
        "message": (
            f"Latency only: the inside view (loop lag, stalls, gauges) of {config['target']} is "
            f"missing; {why}."
        ),
    }]  # fmt: skip


def load_workers_lost(events: pd.DataFrame, *, start: float | None) -> list[SelfCheck]:
    """Warn for each load worker (``--load-workers``) lost mid-run: who, when, what is kept."""
    if events.empty or "event" not in events:
        return []
    lost = events.loc[events["event"] == "load_worker_lost"]
    warnings: list[SelfCheck] = []
    for row in lost.to_dict("records"):
        when = float(row["t"]) - start if start is not None else None
        at = f" {when:.1f} s into the run" if when is not None else ""
        heard = row.get("last_heard")
        if start is not None and heard is not None and not pd.isna(heard):
            at += f" (last heard from {float(heard) - start:.1f} s in)"
        warnings.append({
            "kind": "load_worker_lost",
            "message": (
                f"Load worker {row.get('load_worker')} (index {_index(row.get('index'))}) was "
                f"lost{at}; "
                f"its {int(row.get('records') or 0):,} requests recorded up to then are kept, "
                "and the load it would have sent after is missing."
            ),
        })  # fmt: skip
    return warnings


def _index(value: Any) -> str:
    return "?" if value is None or pd.isna(value) else str(int(value))
