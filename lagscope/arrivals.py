"""The arrival plan of open-model load: every request's intended send time, fixed before the run.

Pure functions of the rate (constant or a linear ramp), the kind of arrivals, the
duration and the seed, so the plan is testable without Locust and identical for
every load-generator process (each takes its own share of it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lagscope import rundir
from lagscope.errors import UsageError

if TYPE_CHECKING:  # numpy is imported where a plan is drawn: the command line parses
    import numpy as np  # --rate and --arrivals with this module, and starts faster without

ArrivalKind = Literal["constant", "poisson"]
ARRIVALS: tuple[ArrivalKind, ...] = ("constant", "poisson")

ENV_OPTIONS = rundir.ENV_OPEN_MODEL  # how the harness passes PlanOptions to Locust
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?::\s*(\d+(?:\.\d+)?)\s*)?$")


@dataclass(frozen=True)
class Rate:
    """Requests per second in total: ``start`` at the beginning, ``end`` at the end (linear)."""

    start: float
    end: float

    @property
    def constant(self) -> bool:
        return self.start == self.end

    def __str__(self) -> str:
        return f"{self.start:g}" if self.constant else f"{self.start:g}:{self.end:g}"


def parse_rate(text: str) -> Rate:
    """``"200"`` → 200 req/s throughout; ``"50:500"`` → a linear ramp from 50 to 500 req/s."""
    match = _RATE.match(text)
    if match is None:
        raise UsageError(
            f"--rate {text!r} is not a rate; give requests per second, e.g. --rate 200, "
            "or a linear ramp START:END, e.g. --rate 50:500"
        )
    start = float(match.group(1))
    end = float(match.group(2)) if match.group(2) is not None else start
    if end <= 0 or (match.group(2) is None and start <= 0):
        raise UsageError(f"--rate {text!r}: the rate must be greater than zero")
    return Rate(start=start, end=end)


def expected_count(rate: Rate, duration_s: float) -> float:
    """The mean number of arrivals over ``duration_s``: the area under the rate."""
    return (rate.start + rate.end) / 2 * duration_s


def _invert(cumulative: np.ndarray, rate: Rate, duration_s: float) -> np.ndarray:
    """Times t with Λ(t) = cumulative, where Λ(t) = r0·t + (r1 − r0)·t²/(2T)."""
    import numpy as np

    a = (rate.end - rate.start) / (2 * duration_s)
    root = np.sqrt(rate.start**2 + 4 * a * cumulative)
    denominator = rate.start + root
    # 2λ / (r0 + √(r0² + 4aλ)) is the stable root of aT² + r0·t − λ = 0 (also when a = 0).
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(denominator > 0, 2 * cumulative / denominator, 0.0)
    return np.asarray(times, dtype=float)


def plan(
    *, rate: Rate, duration_s: float, arrivals: ArrivalKind = "constant", seed: int = 0
) -> np.ndarray:
    """Intended send times, seconds from the plan's start, ascending, all in [0, duration_s).

    ``constant``: the k-th arrival is where the area under the rate reaches k, so a
    constant rate R gives exactly R·T arrivals spaced 1/R apart, starting at 0.
    ``poisson``: a Poisson process of that (possibly ramping) rate: unit-mean exponential
    gaps in the area under the rate, mapped back to time; the same seed, the same plan.
    """
    import numpy as np

    if duration_s <= 0:
        raise UsageError(f"the plan's duration must be greater than zero (got {duration_s:g})")
    total = expected_count(rate, duration_s)
    if arrivals == "constant":
        cumulative = np.arange(int(np.ceil(total)), dtype=float)
    else:
        rng = np.random.default_rng(seed)
        # Draw in batches until the area is covered (mean total, a few σ to spare).
        gaps = rng.exponential(1.0, size=int(total + 6 * np.sqrt(total) + 16))
        cumulative = np.cumsum(gaps)
        while cumulative[-1] < total:
            more = np.cumsum(rng.exponential(1.0, size=len(gaps))) + cumulative[-1]
            cumulative = np.concatenate([cumulative, more])
    times = _invert(cumulative[cumulative < total], rate, duration_s)
    return times[times < duration_s]


def share(times: np.ndarray, *, index: int, procs: int) -> np.ndarray:
    """The part of the plan load-generator process ``index`` (of ``procs``) sends: every
    ``procs``-th arrival, so the processes together send the whole plan, each on time."""
    if not 0 <= index < procs:
        raise ValueError(f"process index {index} is outside 0..{procs - 1}")
    return times[index::procs]


@dataclass(frozen=True, kw_only=True)
class PlanOptions:
    """What every load-generator process needs to compute the plan and take its share."""

    rate: Rate
    arrivals: ArrivalKind
    duration_s: float
    seed: int
    max_users: int  # this process's cap of its pool of users
    procs: int

    def to_env(self) -> str:
        return json.dumps(
            {"rate": [self.rate.start, self.rate.end], "arrivals": self.arrivals,
             "duration_s": self.duration_s, "seed": self.seed, "max_users": self.max_users,
             "procs": self.procs}
        )  # fmt: skip

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PlanOptions | None:
        """The options in ``environ[ENV_OPTIONS]``, or None in closed mode."""
        if ENV_OPTIONS not in environ:
            return None
        data = dict(json.loads(environ[ENV_OPTIONS]))
        start, end = data.pop("rate")
        return cls(rate=Rate(float(start), float(end)), **data)
