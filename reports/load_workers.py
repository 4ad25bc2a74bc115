"""Remote load workers (``--load-workers``): who sent what, their clocks, who was lost.

Pure: from the master's events (``load_worker_joined``, ``load_worker_clock``,
``load_worker_lost``) and the requests' ``load_worker`` column.
"""

from __future__ import annotations

import pandas as pd
from lagscope.reports.summary_types import LoadWorker, SelfCheck


def _by_worker(events: pd.DataFrame, event: str) -> dict[str, dict[str, object]]:
    if events.empty or "event" not in events or "load_worker" not in events:
        return {}
    rows = events.loc[events["event"] == event]
    return {str(row["load_worker"]): row for row in rows.to_dict("records")}


def load_worker_figures(
    events: pd.DataFrame, requests: pd.DataFrame, *, start: float | None
) -> list[LoadWorker]:
    """One entry per remote load worker, in the master's index order; [] for local load."""
    joined = _by_worker(events, "load_worker_joined")
    if not joined:
        return []
    clock, lost = _by_worker(events, "load_worker_clock"), _by_worker(events, "load_worker_lost")
    counts = (
        requests["load_worker"].value_counts()
        if "load_worker" in requests
        else pd.Series(dtype=int)
    )
    figures: list[LoadWorker] = []
    for name, row in sorted(joined.items(), key=lambda item: float(item[1]["index"])):  # type: ignore[arg-type]
        measured = clock.get(name, {})
        gone = lost.get(name)
        figures.append({
            "name": name,
            "index": int(row["index"]),  # type: ignore[call-overload]
            "requests": int(counts.get(name, 0)),
            "clock_offset_ms": _float(measured.get("offset_ms")),
            "clock_uncertainty_ms": _float(measured.get("uncertainty_ms")),
            "lost_after_s": None if gone is None or start is None
            else round(float(gone["t"]) - start, 1),  # type: ignore[arg-type]
        })  # fmt: skip
    return figures


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def load_workers_note(figures: list[LoadWorker]) -> list[SelfCheck]:
    """The workers and their clock offsets in words (each worker's times were moved onto
    the master's clock by its offset)."""
    if not figures:
        return []
    parts = []
    for worker in figures:
        offset, spread = worker["clock_offset_ms"], worker["clock_uncertainty_ms"]
        clock = "clock not measured" if offset is None else (
            f"clock {offset:+.2f} ± {spread or 0:.2f} ms")  # fmt: skip
        lost = "" if worker["lost_after_s"] is None else f", lost at {worker['lost_after_s']} s"
        parts.append(f"{worker['name']} {worker['requests']:,} requests ({clock}{lost})")
    return [{
        "kind": "load_workers",
        "message": (
            f"Load from {len(figures)} remote workers: {'; '.join(parts)}; every worker's "
            "times were moved onto the master's clock by its offset."
        ),
    }]  # fmt: skip
