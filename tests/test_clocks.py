"""Clock offsets from round trips: the midpoint, ± half the round trip; the tightest wins."""

from __future__ import annotations

import pytest

from lagscope import clocks


def test_the_offset_is_read_at_the_round_trips_midpoint() -> None:
    # Sent at 100.0, answered at 100.010 on our clock; the remote clock read 105.004.
    measured = clocks.from_round_trip(100.0, 105.004, 100.010)
    assert measured.offset_s == pytest.approx(4.999)
    assert measured.uncertainty_s == pytest.approx(0.005)


def test_the_shortest_round_trip_bounds_the_offset_best() -> None:
    slow = clocks.from_round_trip(0.0, 2.0, 0.2)
    fast = clocks.from_round_trip(1.0, 2.9, 1.002)
    assert clocks.better(None, slow) is slow
    assert clocks.better(slow, fast) is fast
    assert clocks.better(fast, slow) is fast
