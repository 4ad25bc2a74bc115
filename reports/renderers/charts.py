"""Charts of one run on a shared time axis, drawn with matplotlib's object API.

Never pyplot: no global figure state, safe in threads and tests.  Each ``chart_*``
returns a Figure; ``to_svg`` and ``to_png`` turn it into something to embed or keep.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import matplotlib as mpl
import numpy as np
import pandas as pd
from lagscope.reports.open_model import tails_differ
from lagscope.reports.series import Series
from matplotlib.axes import Axes
from matplotlib.figure import Figure

WIDTH_IN = 11.0
ROW_IN = 2.4
XLABEL = "seconds since load start"
# Colours that stay apart for readers with the commonest colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
STALL_COLOUR = "#D55E00"
GC_COLOUR = "#009E73"


MIN_SPAN_S = 1.0


def x_limits(series: Series) -> tuple[float, float]:
    """The span every chart shows: all data, at least the steady window, and at least a
    second (a run with no data, or one point, would give a zero-width axis)."""
    lows = [series.window[0]]
    highs = [series.window[1]]
    for frame, column in ((series.requests, "second"), (series.lag, "second"),
                          (series.resources, "second")):  # fmt: skip
        if not frame.empty:
            lows.append(float(frame[column].min()))
            highs.append(float(frame[column].max()) + 1.0)
    low, high = min(lows), max(highs)
    return low, max(high, low + MIN_SPAN_S)


# Fixed margins (in inches), not a layout engine: every chart's plot area then spans the
# same pixels, so one second sits at the same x on every chart of the page.
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN = 0.85, 0.15, 0.35, 0.5


def new_figure(rows: int = 1) -> tuple[Figure, list[Axes]]:
    height = ROW_IN * rows
    fig = Figure(figsize=(WIDTH_IN, height))
    fig.subplots_adjust(
        left=LEFT_IN / WIDTH_IN, right=1 - RIGHT_IN / WIDTH_IN,
        top=1 - TOP_IN / height, bottom=BOTTOM_IN / height, hspace=0.12 * rows,
    )  # fmt: skip
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _frame_axes(axes: Iterable[Axes], series: Series, xlim: tuple[float, float]) -> None:
    """Steady window and profile window shaded, shared limits, grid."""
    for ax in axes:
        ax.axvspan(*series.window, color="#000000", alpha=0.04, lw=0)
        if series.profile is not None:
            ax.axvspan(*series.profile, color="#CC79A7", alpha=0.15, lw=0, label="profiled")
        ax.set_xlim(*xlim)
        ax.grid(True, alpha=0.3)
    list(axes)[-1].set_xlabel(XLABEL)


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} recorded", ha="center", va="center", transform=ax.transAxes)


def uncorrected_differs(frame: pd.DataFrame) -> bool:
    """Rate mode, and in some second the corrected p99 is well above the uncorrected one."""
    if frame.empty or "p99_uncorrected_ms" not in frame:
        return False
    pairs = frame[["p99_ms", "p99_uncorrected_ms"]].dropna()
    return any(tails_differ(c, u) for c, u in pairs.itertuples(index=False))


def chart_latency(series: Series, xlim: tuple[float, float]) -> Figure:
    """p50/p95/p99 latency per second (ms, log scale when the tail is far off)."""
    fig, (ax,) = new_figure()
    frame = series.requests
    if frame.empty:
        _empty(ax, "requests")
    for i, key in enumerate(["p50_ms", "p95_ms", "p99_ms"]):
        if not frame.empty:
            # Each second's figure is drawn at the middle of its second.
            ax.plot(frame["second"] + 0.5, frame[key], color=PALETTE[i], lw=1.6, label=key[:-3])
    if uncorrected_differs(frame):
        ax.plot(frame["second"] + 0.5, frame["p99_uncorrected_ms"], color=PALETTE[2], lw=1.2,
                ls="--", label="p99 uncorrected")  # fmt: skip
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency percentiles per second", loc="left")
    if not frame.empty:
        ax.legend(loc="upper right", ncols=4, fontsize="small")
    _frame_axes([ax], series, xlim)
    return fig


def chart_throughput(series: Series, xlim: tuple[float, float]) -> Figure:
    """Requests sent per second and the failed ones."""
    fig, (ax,) = new_figure()
    frame = series.requests
    if frame.empty:
        _empty(ax, "requests")
    else:
        # Steps over every second (a second without requests reads 0): one path, not a bar
        # per second, so a long run draws as fast as a short one.
        full = frame.set_index("second").reindex(
            np.arange(frame["second"].min(), frame["second"].max() + 1.0), fill_value=0
        )
        edges = np.append(full.index.to_numpy(dtype=float), full.index[-1] + 1.0)
        ax.stairs(full["count"], edges, fill=True, color=PALETTE[0], label="requests/s")
        ax.stairs(full["errors"], edges, fill=True, color=STALL_COLOUR, label="errors/s")
        ax.legend(loc="upper right", ncols=2, fontsize="small")
    ax.set_ylabel("per second")
    ax.set_title("Throughput and errors", loc="left")
    _frame_axes([ax], series, xlim)
    return fig


def chart_loop_lag(series: Series, xlim: tuple[float, float], *, top: str | None) -> Figure:
    """Worst loop lag per half second per worker; stalls marked; the top blocker labelled."""
    fig, (ax,) = new_figure()
    if series.lag.empty:
        _empty(ax, "loop lag")
    for i, (pid, frame) in enumerate(series.lag.groupby("pid", sort=True)):
        ax.plot(frame["second"], frame["lag_max_ms"], color=PALETTE[i % len(PALETTE)], lw=1.2,
                label=f"worker {pid}")  # fmt: skip
    stalls = series.stalls
    if not stalls.empty:
        # The chart spans the whole run; the report's stall figures count the steady window.
        ax.scatter(stalls["at"], stalls["duration_ms"], marker="v", s=18, color=STALL_COLOUR,
                   zorder=3, label=f"stalls, whole run ({len(stalls)})")  # fmt: skip
        mine = stalls[stalls["location"] == top] if top else stalls.iloc[0:0]
        if not mine.empty:
            worst = mine.loc[mine["duration_ms"].idxmax()]
            ax.annotate(
                f"top blocker: {top}", xy=(worst["at"], worst["duration_ms"]),
                xytext=(0.02, 0.92), textcoords="axes fraction", fontsize="small",
                arrowprops={"arrowstyle": "->", "color": "#333333"},
                bbox={"boxstyle": "round", "fc": "#FFF5E6", "ec": STALL_COLOUR},
            )  # fmt: skip
    pauses = series.gc
    if not pauses.empty:
        # Each pause of the collector as long as a stall: its start, its length as height.
        ax.scatter(pauses["at"], pauses["duration_ms"], marker="D", s=16, color=GC_COLOUR,
                   zorder=4, label=f"GC pauses ({len(pauses)})")  # fmt: skip
    ax.set_ylabel("loop lag (ms)")
    ax.set_title("Event-loop lag and stalls", loc="left")
    if not series.lag.empty:
        ax.legend(loc="upper right", ncols=4, fontsize="small")
    _frame_axes([ax], series, xlim)
    return fig


def chart_resources(series: Series, xlim: tuple[float, float]) -> Figure:
    """RSS, CPU and open fds of every process."""
    fig, axes = new_figure(3)
    frame = series.resources
    labels = [("rss_mb", "RSS (MB)"), ("cpu_pct", "CPU (% of a core)"), ("fds", "open fds")]
    for ax, (key, label) in zip(axes, labels, strict=True):
        ax.set_ylabel(label)
        if frame.empty:
            _empty(ax, "resources")
        for i, (process, rows) in enumerate(frame.groupby("process", sort=True)):
            ax.plot(rows["second"], rows[key], color=PALETTE[i % len(PALETTE)], lw=1.3,
                    label=str(process))  # fmt: skip
    axes[0].set_title("Resources per process", loc="left")
    if not frame.empty:
        axes[0].legend(loc="upper right", ncols=3, fontsize="small")
    _frame_axes(axes, series, xlim)
    return fig


def flat_axis(ax: Axes, values: pd.Series) -> None:
    """A gauge that never moved gets an axis from 0 to above its value (0 to 1 for a gauge
    that stayed at 0), not matplotlib's ±5 % around it (−0.05 … 0.05 for zero)."""
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if finite.empty or finite.min() != finite.max() or finite.min() < 0:
        return
    level = float(finite.min())
    ax.set_ylim(0.0, level * 1.25 if level > 0 else 1.0)


def chart_gauges(series: Series, xlim: tuple[float, float]) -> Figure:
    """One row per gauge the app recorded (pool, tasks, threadpool, logging ...)."""
    names = [c for c in series.gauges.columns if c not in ("pid", "second")]
    fig, axes = new_figure(max(len(names), 1))
    if not names:
        _empty(axes[0], "app gauges")
        axes[0].set_title("App gauges", loc="left")
    for ax, name in zip(axes, names, strict=False):
        for i, (pid, rows) in enumerate(series.gauges.groupby("pid", sort=True)):
            ax.plot(rows["second"], rows[name], color=PALETTE[i % len(PALETTE)], lw=1.3,
                    label=f"worker {pid}", drawstyle="steps-post")  # fmt: skip
        ax.set_ylabel(name, fontsize="small")
        flat_axis(ax, series.gauges[name])
    if names:
        axes[0].set_title("App gauges", loc="left")
        axes[0].legend(loc="upper right", ncols=4, fontsize="small")
    _frame_axes(axes, series, xlim)
    return fig


def run_charts(series: Series, *, top_blocker: str | None) -> dict[str, Figure]:
    """Every chart of the report, by id, on one x axis."""
    xlim = x_limits(series)
    return {
        "latency": chart_latency(series, xlim),
        "throughput": chart_throughput(series, xlim),
        "loop-lag": chart_loop_lag(series, xlim, top=top_blocker),
        "resources": chart_resources(series, xlim),
        "gauges": chart_gauges(series, xlim),
    }


def to_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element, text kept as text (searchable, crisp)."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lagscope"}):
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (the caller writes them, whole or not at all)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
