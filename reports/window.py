"""The measurement window: the steady part of the load, from the phases the harness recorded.

Ramp-up (until Locust reports every user spawned) and the drain after the load
stopped are left out of the headline figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Window:
    start: float  # unix seconds
    end: float
    basis: str  # which recorded events bound it

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-9)

    def clip(self, frame: pd.DataFrame, column: str = "t") -> pd.DataFrame:
        """The rows of ``frame`` whose ``column`` falls inside the window."""
        return frame[(frame[column] >= self.start) & (frame[column] <= self.end)]


def _first(events: pd.DataFrame, name: str) -> float | None:
    times = events.loc[events["event"] == name, "t"]
    return float(times.min()) if not times.empty else None


def measurement_window(events: pd.DataFrame, requests: pd.DataFrame) -> Window:
    """Spawning complete → load stop; falls back to load start and the request times."""
    spawned = _first(events, "spawning_complete")
    started = _first(events, "load_start")
    stopped = _first(events, "load_stop")
    first_req = float(requests["t"].min()) if not requests.empty else None
    last_req = float(requests["t"].max()) if not requests.empty else None
    start = spawned if spawned is not None else started if started is not None else first_req
    end = stopped if stopped is not None else last_req
    opened = "spawning_complete" if spawned is not None else "load_start"
    closed = "load_stop" if stopped is not None else "last request"
    basis = f"{opened} → {closed}"
    if start is None or end is None or end <= start:
        return Window(start=start or 0.0, end=end or 0.0, basis="no load recorded")
    return Window(start=start, end=end, basis=basis)
