"""Several watchdog sinks at once: the run directory, Prometheus metrics, OpenTelemetry.

The watchdog hands its sink (``watchdog.StallSink``) the heartbeat's pending samples
(``(unix_t, lag_ms)``, a deque it pops) about once a second, and each stall event, from
its own thread only.  ``Tee`` empties the deque once and hands each sink the same
samples.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lagscope.harness.probe.watchdog import StallSink

LagRow = tuple[float, float]  # (unix seconds, lag in ms)


def drain(samples: collections.deque[LagRow]) -> list[LagRow]:
    """Every sample out of ``samples`` (the loop thread appends, the watchdog pops)."""
    rows = []
    while True:
        try:
            rows.append(samples.popleft())
        except IndexError:
            return rows


class Tee:
    """Hands every batch of lag samples and every stall to each of ``sinks``, in order."""

    def __init__(self, *sinks: StallSink) -> None:
        self.sinks = sinks

    def flush_lag(self, samples: collections.deque[LagRow]) -> None:
        rows = drain(samples)
        for sink in self.sinks:
            sink.flush_lag(collections.deque(rows))

    def write_stall(self, event: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.write_stall(event)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
