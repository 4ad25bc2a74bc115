"""Where the watchdog puts what it measures: the run directory, Prometheus metrics, or both.

A sink takes the heartbeat's lag samples (``(unix_t, lag_ms)``, a batch about once a
second) and each stall event, from the watchdog thread only.  ``Recorder`` writes
``workers/<pid>/``; ``metrics.MetricsSink`` feeds the exported histogram and counters;
``Tee`` hands the same data to several.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

LagRow = tuple[float, float]  # (unix seconds, lag in ms)


class Sink(Protocol):
    def write_lag(self, rows: Sequence[LagRow]) -> None:
        """Take a batch of heartbeat samples, oldest first."""

    def write_stall(self, event: dict[str, Any]) -> None:
        """Take one stall event (the fields of stalls.jsonl)."""

    def close(self) -> None:
        """The watchdog stops: flush and release."""


class Tee:
    """Hands every batch and event to each of ``sinks``, in order."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def write_lag(self, rows: Sequence[LagRow]) -> None:
        for sink in self.sinks:
            sink.write_lag(rows)

    def write_stall(self, event: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.write_stall(event)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
