"""The game day's timeline chart: traffic and bad requests, burn rates, phases and alerts.

Drawn from the ``gameday`` section of the summary alone (so ``lagscope report`` can
redraw it), with matplotlib's object API (no pyplot state).  Every panel shades the
phases; each alert's firing span is marked on the burn-rate panel, with a line where
it fired and where it resolved.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from lagscope.reports.burnrate import window_sums
from lagscope.reports.summary_types import AlertFigures, GamedaySection, GamedaySlo
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
PHASE_SHADES = {"inject": "#D55E00", "fix": "#009E73", None: "#000000"}
FIRING = "#D55E00"


def burn_series(slo: GamedaySlo, *, window_s: int, budget: float) -> np.ndarray[Any, Any]:
    """Burn rate over the trailing ``window_s`` at each second, from the section's counts."""
    bad = window_sums(np.asarray(slo["bad_per_second"], dtype=np.int64), window_s)
    total = window_sums(np.asarray(slo["total_per_second"], dtype=np.int64), window_s)
    share = np.divide(bad, total, out=np.zeros(bad.size), where=total > 0)
    return share / budget


def shade_phases(ax: Axes, gameday: GamedaySection, *, label: bool, offset: float = 0.0) -> None:
    """Shade each phase that started, from its start to the next one's (or the end).

    ``offset`` shifts the exercise's seconds onto the axis' own origin.
    """
    started = [
        (phase, at)
        for phase in gameday["phases"]
        if (at := phase["started_at"]) is not None and phase["name"] != "end"
    ]
    for i, (phase, at) in enumerate(started):
        end = started[i + 1][1] if i + 1 < len(started) else gameday["seconds"]
        colour = PHASE_SHADES.get(phase["role"], "#000000")
        ax.axvspan(at + offset, end + offset, color=colour,
                   alpha=0.08 if phase["role"] else 0.02, lw=0)  # fmt: skip
        ax.axvline(at + offset, color="#555555", lw=0.8, ls=":")
        if label:
            ax.text(
                at + offset + 0.5, 1.0, phase["name"],
                transform=ax.get_xaxis_transform(), fontsize=8, va="top",
            )  # fmt: skip


def mark_gameday(figures: dict[str, Figure], gameday: GamedaySection, *, offset: float) -> None:
    """Shade the phases and mark each alert's firing and resolving on every chart of a run."""
    for figure in figures.values():
        for i, ax in enumerate(figure.axes):
            shade_phases(ax, gameday, label=i == 0, offset=offset)
            for alert in gameday["alerts"]:
                for change in alert["transitions"]:
                    ax.axvline(change["at"] + offset, lw=1.0, ls="--",
                               color=FIRING if change["firing"] else "#009E73")  # fmt: skip


def gameday_figure(gameday: GamedaySection) -> Figure:
    fig = Figure(figsize=(11.0, 6.0))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.09, hspace=0.25)
    traffic, burn = fig.subplots(2, 1, sharex=True)
    slos = {s["name"]: s for s in gameday["slos"]}
    for i, slo in enumerate(gameday["slos"]):
        seconds = np.arange(len(slo["total_per_second"]))
        if i == 0:
            traffic.plot(
                seconds, slo["total_per_second"], color="#444444", lw=1, label="requests/s"
            )
        traffic.plot(seconds, slo["bad_per_second"], color=PALETTE[i % len(PALETTE)], lw=1.2,
                     label=f"bad/s: {slo['name']} ({slo['objective']})")  # fmt: skip
    traffic.set_ylabel("requests per second")
    traffic.legend(loc="upper left", fontsize=8)
    for i, alert in enumerate(gameday["alerts"]):
        slo = slos[alert["slo"]]
        rates = burn_series(slo, window_s=alert["long_window_s"], budget=slo["budget"])
        colour = PALETTE[i % len(PALETTE)]
        burn.plot(np.arange(rates.size), rates, color=colour, lw=1.2,
                  label=f"{alert['name']}: burn over {alert['long_window_s']} s")  # fmt: skip
        short = burn_series(slo, window_s=alert["short_window_s"], budget=slo["budget"])
        burn.plot(np.arange(short.size), short, color=colour, lw=0.7, ls=":",
                  label=f"{alert['name']}: burn over {alert['short_window_s']} s")  # fmt: skip
        burn.axhline(alert["burn_rate"], color=colour, lw=0.8, ls="--")
        _mark_firing(burn, alert, end=gameday["seconds"])
    burn.set_ylabel("burn rate (× budget)")
    burn.set_xlabel("seconds since the exercise started")
    if gameday["alerts"]:  # a game day may declare no alert (nothing to draw or label)
        burn.legend(loc="upper left", fontsize=8)
    for ax in (traffic, burn):
        shade_phases(ax, gameday, label=ax is traffic)
        ax.set_xlim(0, max(1.0, gameday["seconds"]))
        ax.grid(alpha=0.3)
    fig.suptitle(f"game day: {gameday['title']}", fontsize=11)
    return fig


def _mark_firing(ax: Axes, alert: AlertFigures, *, end: float) -> None:
    fired: float | None = None
    for change in alert["transitions"]:
        ax.axvline(change["at"], color=FIRING if change["firing"] else "#009E73", lw=1.2)
        if change["firing"]:
            fired = change["at"]
        elif fired is not None:
            ax.axvspan(fired, change["at"], ymin=0.95, ymax=1.0, color=FIRING, alpha=0.6)
            fired = None
    if fired is not None:
        ax.axvspan(fired, end, ymin=0.95, ymax=1.0, color=FIRING, alpha=0.6)


def gameday_png(gameday: GamedaySection) -> bytes:
    """``gameday.png``'s bytes."""
    buffer = io.BytesIO()
    gameday_figure(gameday).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
