"""The oracle's queue, as arithmetic: what a coordinated sender's figures come to around
the ticker's stalls (tests/harness/apps/ticker), given the round trip the run measured.

One user sending every 10 ms (arrivals at φ, φ+10, … into a stall of L ms, φ < 10): the
first is sent into the stall and answered at its end; the others queue and go out one
after the other, a round trip ``d`` each. The j-th (from 0) is answered after

    L − φ − j·(10 − d) + d  ms from its slot,  sent  L − φ − j·(10 − d)  ms late.

So the slowdown of a busy machine moves the figures by its round trip, ~6 ms of P95 a ms,
which no fixed bound absorbs (CI saw P95 71 ms where a quiet machine gives 50). The
round trip is measured in the same run: the sends the queue delayed (more than 10 ms late)
each took one, their uncorrected latency.
"""

from __future__ import annotations

import math

import pandas as pd

SLOT_MS = 10.0  # one user's slots: 100 req/s
LATE_MS = 10.0  # lagscope's late send


def drain_round_trip_ms(requests: pd.DataFrame) -> float:
    """The median round trip of the sends the stalls' queue held back (requests.parquet)."""
    queued = requests.loc[requests["send_lag_ms"] > LATE_MS, "uncorrected_ms"]
    return float(queued.median())


def p95_ceiling_ms(stall_ms: float, round_trip_ms: float, *, floor_ms: float) -> float:
    """At most what P95 may be: the 6th arrival of each stall (2,000 requests, 20 stalls:
    P95 sits at the 101st largest) with φ = 0, plus one slot for stalls of the machine's
    own; never below ``floor_ms``, the bound of a quiet machine."""
    d = min(round_trip_ms, SLOT_MS - 1)
    return max(floor_ms, stall_ms - 5 * (SLOT_MS - d) + d + SLOT_MS)


def late_sends_ceiling(stalls: int, stall_ms: float, round_trip_ms: float, *, floor: int) -> int:
    """At most how many sends are late: per stall, the j with L − j·(10 − d) > 10, plus 3
    behind the queue; never below ``floor``, the bound of a quiet machine."""
    d = min(round_trip_ms, SLOT_MS - 1)
    per_stall = math.ceil((stall_ms - LATE_MS) / (SLOT_MS - d)) + 3
    return max(floor, stalls * per_stall)
