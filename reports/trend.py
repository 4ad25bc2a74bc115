"""The shape of a gauge over the steady window: does it grow steadily, level off, or drain?

A leak is a shape, not a rate: a resource that grows through the whole window and
neither levels off nor drains.  Two robust statistics judge it, both rank-based so an
outlier or a burst moves them little:

    Theil–Sen slope   the median of the slopes between every pair of samples
    Mann–Kendall      S = Σ sign(y_j − y_i) over pairs i < j: is the series monotonic?
                      Var(S) corrected for ties; one-sided p of the normal approximation

Each half of the window gets its own Theil–Sen slope: a cache that warms and plateaus
grows in the first half only; a burst that drains ends near where it started.  Pure
functions of arrays; ``scipy`` is not needed for either statistic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
from lagscope.reports.summary_types import Shape
from lagscope.reports.summary_types import Trend as TrendFigures

Array = npt.NDArray[np.float64]

MAX_POINTS = 240  # longer series are thinned to bin medians (both statistics are O(n²))
MIN_POINTS = 8
P_GROWING = 0.001  # Mann–Kendall one-sided p below which the series is monotonic
# The second half grows at least this share of the whole window's slope and of the first
# half's: a cache that filled in the first seconds rises steeply, then barely.
LATE_SHARE = 0.3
KEPT_SHARE = 0.5  # the end keeps at least this share of the rise from start to peak
DRAINED_NOISE = 4.0  # a peak this many noise widths above both ends rose and drained
EDGE = 3  # samples whose median is the level at each end


def thin(t: Array, y: Array, *, max_points: int = MAX_POINTS) -> tuple[Array, Array]:
    """At most ``max_points`` points: the medians of equal bins of consecutive samples."""
    if t.size <= max_points:
        return t, y
    edges = np.linspace(0, t.size, max_points + 1).astype(int)
    bins = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return (
        np.array([np.median(t[b]) for b in bins]),
        np.array([np.median(y[b]) for b in bins]),
    )


def theil_sen(t: Array, y: Array) -> float:
    """The median slope over every pair of samples with distinct times (0.0 for fewer)."""
    i, j = np.triu_indices(t.size, k=1)
    dt = t[j] - t[i]
    ok = dt > 0
    if not ok.any():
        return 0.0
    return float(np.median((y[j] - y[i])[ok] / dt[ok]))


def mann_kendall(y: Array) -> tuple[float, float]:
    """(S, one-sided p that the series is not increasing): Mann–Kendall with ties.

    p is ``P(Z ≥ z)`` for the continuity-corrected ``z = (S − 1) / sqrt(Var S)``; a
    series with no increase at all (S ≤ 0) has p = 1 − P(Z ≥ |z|) ≥ 0.5.
    """
    n = y.size
    if n < 3:
        return 0.0, 1.0
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(y[j] - y[i]).sum())
    _, ties = np.unique(y, return_counts=True)
    ties = ties[ties > 1].astype(float)
    var = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    if var <= 0:
        return s, 1.0
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    return s, 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Trend:
    """How one series moved over the window (units of the series, per second)."""

    points: int
    seconds: float
    start: float  # median of the first EDGE samples
    end: float  # median of the last EDGE samples
    peak: float
    slope_per_s: float  # Theil–Sen over the whole window
    early_slope_per_s: float  # ... over its first half
    late_slope_per_s: float  # ... over its second half
    rise: float  # slope × seconds: what the line gained over the window
    noise: float  # 1.4826 × median absolute deviation of the residuals around the line
    p_value: float  # Mann–Kendall, one-sided (increasing)
    shape: Shape

    def to_json(self) -> TrendFigures:
        """As summary.json holds it (floats rounded to 6 places)."""
        data = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        return cast(TrendFigures, data)


def _shape(
    *,
    p: float,
    slope: float,
    early: float,
    late: float,
    start: float,
    end: float,
    peak: float,
    noise: float,
) -> Shape:
    kept = end - start >= KEPT_SHARE * (peak - start)
    if p < P_GROWING and slope > 0:
        if late > 0 and late >= LATE_SHARE * max(slope, early) and kept:
            return "growing"
        return "levelling" if kept else "draining"
    if not kept and peak - max(start, end) > DRAINED_NOISE * noise:
        return "draining"
    return "flat"


def trend(t: Array, y: Array) -> Trend | None:
    """The trend of ``y`` sampled at times ``t`` (seconds); None with too few samples.

    NaN samples are dropped; ``t`` need not start at zero.
    """
    ok = ~(np.isnan(t) | np.isnan(y))
    t, y = t[ok], y[ok]
    order = np.argsort(t, kind="stable")
    t, y = thin(t[order], y[order])
    if t.size < MIN_POINTS or t[-1] <= t[0]:
        return None
    seconds = float(t[-1] - t[0])
    slope = theil_sen(t, y)
    half = t.size // 2
    early, late = theil_sen(t[:half], y[:half]), theil_sen(t[half:], y[half:])
    _, p = mann_kendall(y)
    intercept = float(np.median(y - slope * t))
    residuals = y - (intercept + slope * t)
    noise = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals))))
    start, end = float(np.median(y[:EDGE])), float(np.median(y[-EDGE:]))
    peak = float(y.max())
    return Trend(
        points=int(t.size),
        seconds=seconds,
        start=start,
        end=end,
        peak=peak,
        slope_per_s=slope,
        early_slope_per_s=early,
        late_slope_per_s=late,
        rise=slope * seconds,
        noise=noise,
        p_value=p,
        shape=_shape(
            p=p, slope=slope, early=early, late=late, start=start, end=end, peak=peak, noise=noise
        ),
    )


def time_to(limit: float, *, level: float, slope_per_s: float) -> float | None:
    """Seconds until a series at ``level`` growing ``slope_per_s`` reaches ``limit``; None
    when it does not grow, 0.0 when it is there already."""
    if slope_per_s <= 0:
        return None
    return max(0.0, (limit - level) / slope_per_s)
