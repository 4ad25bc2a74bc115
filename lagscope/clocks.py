"""Clock offsets between hosts, from round trips (NTP's estimate, without its filters).

A remote host read its clock somewhere between our send and our receipt of its reply;
taking the midpoint errs by at most half the round trip, so of several exchanges the one
with the shortest round trip bounds the offset best.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Offset:
    """The remote clock minus ours, in seconds, ± ``uncertainty_s``."""

    offset_s: float
    uncertainty_s: float


def from_round_trip(sent: float, remote: float, received: float) -> Offset:
    """The offset one exchange shows: sent at ``sent`` (our clock), the remote clock read
    ``remote``, the reply received at ``received`` (our clock)."""
    return Offset(remote - (sent + received) / 2, max(received - sent, 0.0) / 2)


def better(current: Offset | None, new: Offset) -> Offset:
    """The tighter of two estimates (the shorter round trip)."""
    return new if current is None or new.uncertainty_s < current.uncertainty_s else current
