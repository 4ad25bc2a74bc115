"""Each arrival's greenlet knows its slot; a task's later requests share its lateness."""

from __future__ import annotations

import gevent
import pytest
from lagscope.harness.loadgen import send_slots


def test_a_request_outside_any_arrival_has_no_slot() -> None:
    assert send_slots.slot_of(123.0) is None


def test_first_request_is_intended_at_the_slot_and_later_ones_keep_its_lateness() -> None:
    def arrival() -> list[tuple[float, float] | None]:
        send_slots.begin(100.0)
        try:
            # Sent 30 ms late; the second request goes 50 ms after the first.
            return [send_slots.slot_of(100.030), send_slots.slot_of(100.080)]
        finally:
            send_slots.end()

    first, second = gevent.spawn(arrival).get(timeout=5)
    assert first == pytest.approx((100.0, 0.030))
    assert second == pytest.approx((100.050, 0.030))


def test_concurrent_arrivals_do_not_see_each_others_slots() -> None:
    def arrival(intended: float, sent: float) -> tuple[float, float] | None:
        send_slots.begin(intended)
        gevent.sleep(0)  # let the other arrival run in between
        try:
            return send_slots.slot_of(sent)
        finally:
            send_slots.end()

    a = gevent.spawn(arrival, 10.0, 10.001)
    b = gevent.spawn(arrival, 20.0, 20.5)
    assert a.get(timeout=5) == pytest.approx((10.0, 0.001))
    assert b.get(timeout=5) == pytest.approx((20.0, 0.5))
    assert send_slots.slot_of(30.0) is None  # nothing leaked into this greenlet


def test_a_send_before_its_slot_counts_as_on_time_not_early() -> None:
    def arrival() -> tuple[float, float] | None:
        send_slots.begin(5.0)
        try:
            return send_slots.slot_of(4.9999)
        finally:
            send_slots.end()

    intended, lag = gevent.spawn(arrival).get(timeout=5)  # type: ignore[misc]
    assert lag == 0.0
    assert intended == pytest.approx(4.9999)


def test_a_step_of_the_wall_clock_during_the_run_is_not_lateness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The plan placed the slot at wall 100.0, monotonic 40.0 (the wall clock 60 s ahead).
    # The wall clock was then stepped 0.5 s forward (NTP, a VM's host syncing its guest):
    # the request went 30 ms after its slot by the monotonic clock, at wall 100.530.
    monkeypatch.setattr(send_slots, "_wall_minus_monotonic", lambda: 60.5)

    def arrival() -> tuple[float, float] | None:
        send_slots.begin(100.0, 40.0)
        try:
            return send_slots.slot_of(100.530)
        finally:
            send_slots.end()

    intended, lag = gevent.spawn(arrival).get(timeout=5)  # type: ignore[misc]
    assert lag == pytest.approx(0.030)
    assert intended == pytest.approx(100.0)  # the slot, where the plan's window is
