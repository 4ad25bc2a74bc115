"""Runs inside Locust: which planned arrival the current greenlet is sending, if any.

lagscope.harness.loadgen.open_model marks each arrival's greenlet with its intended send time;
lagscope.harness.loadgen.recorder asks ``slot_of`` when a request completes. Greenlet-local, so
concurrent arrivals never see each other's slots; closed-mode users have none.

Lateness is a duration, so it is kept on the monotonic clock the plan is sent by: the wall
clock may be stepped or slewed while a run goes on (NTP, a VM's host syncing its guest),
and a send measured against a wall-clock slot would take the step for lateness.
"""

from __future__ import annotations

import time

import gevent.local


def _wall_minus_monotonic() -> float:
    return time.time() - time.monotonic()


class _Slot:
    """The arrival a greenlet is running: its intended time and, once known, its lateness."""

    def __init__(self, intended: float, due: float | None) -> None:
        self.intended = intended  # unix s, on the wall clock as it stood when planned
        self.due = due  # the same instant on the monotonic clock (None: not known)
        self.lag_s: float | None = None
        # How far the wall clock has moved against the monotonic one since the plan was
        # made, read as the arrival begins: just before it sends (read once the response
        # is in, a slewing clock would have moved on by the response's time).
        self.ahead_s = 0.0 if due is None else _wall_minus_monotonic() - (intended - due)


_current = gevent.local.local()
# No arrival has begun in this process (closed model): ``slot_of`` answers without the
# greenlet-local lookup, which costs over a microsecond when the attribute is missing.
_never_begun = True


def begin(intended: float, due: float | None = None) -> None:
    """Mark the current greenlet as sending the arrival intended at ``intended`` (unix s),
    ``due`` on the monotonic clock (then a step of the wall clock since is not lateness)."""
    global _never_begun
    _never_begun = False
    _current.slot = _Slot(intended, due)


def end() -> None:
    _current.slot = None


def slot_of(send_t: float) -> tuple[float, float] | None:
    """``(intended_t, send_lag_s)`` of a request sent at ``send_t`` by an arrival, else None.

    The first request of an arrival is intended at the arrival's slot. A task that
    sends several requests sends the later ones after the earlier responses; they
    are intended at their own send time shifted by the arrival's lateness.  Intended
    times stay on the wall clock as it stood when the plan was made (where the plan's
    window is), ``send_t`` is on the wall clock as it stands: the difference between
    the two, how far the wall clock moved against the monotonic one since, is neither
    lateness nor earliness.
    """
    if _never_begun:
        return None
    slot: _Slot | None = getattr(_current, "slot", None)
    if slot is None:
        return None
    if slot.lag_s is None:
        slot.lag_s = max(0.0, send_t - slot.ahead_s - slot.intended)
    return send_t - slot.ahead_s - slot.lag_s, slot.lag_s
