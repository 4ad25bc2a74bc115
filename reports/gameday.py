"""A game day's figures: alerts, time to detect, time to mitigate, budget consumed, expectations.

Pure functions of the request rows and the exercise's timeline (phase start
instants, in seconds from the exercise's origin: the start of its first phase).

    time to detect     injection phase start → the first page-severity alert fired after it
    time to mitigate   fix phase start → every SLO back within its objective: the first
                       second from which a whole ``recovery_window`` of requests holds no
                       more bad ones than the objective allows
    budget consumed    bad requests ÷ the budget of the SLO period (scaled to the exercise):
                       (bad share ÷ allowed share) × (exercise length ÷ period)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lagscope.reports.burnrate import Transition, alert_states, burn_rates, transitions
from lagscope.reports.expectations import Measured, judge
from lagscope.reports.gameday_file import GameDay
from lagscope.reports.sli import Objective, SliSeries, sli_series
from lagscope.reports.summary_types import (
    AlertFigures,
    Finding,
    GamedayFigures,
    GamedaySlo,
    PhaseFigures,
    RunbookEntry,
)


@dataclass(frozen=True)
class Timeline:
    t0: float  # unix seconds: the first phase started
    phases: dict[str, float]  # name -> start, seconds from t0 (only phases that started)
    end: float  # seconds from t0: the load stopped

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.end))


def timeline_from_events(events: pd.DataFrame, requests: pd.DataFrame) -> Timeline | None:
    """The exercise's timeline from its ``phase_start`` events; None when no phase started."""
    if "phase" not in events:
        return None
    starts = events.loc[events["event"] == "phase_start"].sort_values("t")
    if starts.empty:
        return None
    # The conductor's clock started at load start; each event carries its offset ("at").
    first = starts.iloc[0]
    at = starts["at"] if "at" in starts else starts["t"] - float(first["t"])
    t0 = float(first["t"]) - float(at.iloc[0])
    phases = {str(name): float(offset) for name, offset in zip(starts["phase"], at, strict=True)}
    planned_end = phases.pop("end", None)  # the end marker is the timeline's end, not a phase
    stops = events.loc[events["event"].isin(["load_stop", "gameday_end"]), "t"]
    if planned_end is not None:
        end = planned_end
    elif not stops.empty:
        end = float(stops.min()) - t0
    elif not requests.empty:
        end = float(requests["t"].max()) - t0
    else:
        end = max(phases.values(), default=0.0)
    return Timeline(t0=t0, phases=phases, end=max(end, max(phases.values()) + 1e-3))


def runbook(diagnosis: list[Finding]) -> list[RunbookEntry]:
    """One runbook entry per finding: the symptom, how to confirm it in the data, the fix."""
    return [
        {
            "kind": f["kind"],
            "location": f.get("location"),
            "symptom": f["summary"],
            "confirm": f"lagscope's data shows: {f['evidence']}",
            "fix": f["remedy"],
        }
        for f in diagnosis
    ]


def window_within(series: SliSeries, *, budget: float, start: int, end: int) -> bool:
    """Whether seconds ``[start, end)`` hold no more bad requests than ``budget`` allows."""
    bad = int(series.bad[start:end].sum())
    total = int(series.total[start:end].sum())
    return bad <= budget * total


def recovered_at(
    series: SliSeries, *, budget: float, start: float, end: float, window_s: int
) -> float | None:
    """The first second from which a whole ``window_s`` of requests is within objective.

    The window looks forward from that second (so an instant fix reads 0) and must fit
    before ``end`` (a shorter phase is judged as one window).  None when no window
    before ``end`` is within objective.
    """
    first, stop = int(math.floor(start)), min(int(math.ceil(end)), len(series))
    if stop <= first:
        return None
    for s in range(first, max(first, stop - window_s) + 1):
        if window_within(series, budget=budget, start=s, end=min(s + window_s, stop)):
            return float(max(s, start))
    return None


def budget_consumed(series: SliSeries, *, budget: float, period_s: float) -> float:
    """Share of the SLO period's error budget the exercise used."""
    total = int(series.total.sum())
    if total == 0:
        return 0.0
    share = int(series.bad.sum()) / total
    return (share / budget) * (len(series) / period_s)


def _phase_with_role(game: GameDay, role: str, timeline: Timeline) -> str | None:
    return next((p.name for p in game.phases if p.role == role and p.name in timeline.phases), None)


def _alert_figures(game: GameDay, series: dict[str, SliSeries]) -> list[AlertFigures]:
    figures: list[AlertFigures] = []
    for rule in game.rules:
        objective = game.objective(rule.slo)
        firing = alert_states(rule, series[rule.slo], budget=objective.budget)
        peak = burn_rates(series[rule.slo], window_s=rule.long_s, budget=objective.budget)
        figures.append(
            {
                "name": rule.name, "slo": rule.slo, "severity": rule.severity,
                "long_window_s": rule.long_s, "short_window_s": rule.short_s,
                "burn_rate": rule.factor, "for_s": rule.for_s,
                "transitions": [{"at": c.at, "firing": c.firing} for c in transitions(firing)],
                "firing_seconds": int(firing.sum()),
                "max_long_burn_rate": round(float(peak.max()), 3) if peak.size else 0.0,
            }
        )  # fmt: skip
    return figures


def _recoveries(
    game: GameDay, series: dict[str, SliSeries], timeline: Timeline
) -> dict[tuple[str, str], float | None]:
    return {
        (o.name, phase): recovered_at(
            series[o.name], budget=o.budget, start=start,
            end=timeline.end, window_s=game.recovery_window_s,
        )
        for o in game.objectives
        for phase, start in timeline.phases.items()
    }  # fmt: skip


def _time_to_detect(
    alerts: dict[str, list[Transition]], game: GameDay, injected: float | None
) -> float | None:
    if injected is None:
        return None
    pages = [r.name for r in game.rules if r.severity == "page"]
    fired = [c.at for name in pages for c in alerts[name] if c.firing and c.at >= injected]
    return round(min(fired) - injected, 3) if fired else None


def gameday_figures(game: GameDay, requests: pd.DataFrame, timeline: Timeline) -> GamedayFigures:
    """The ``gameday`` section of ``summary.json``."""
    series = {
        o.name: sli_series(requests, o, t0=timeline.t0, seconds=timeline.seconds)
        for o in game.objectives
    }
    alert_list = _alert_figures(game, series)
    alerts = {
        a["name"]: [Transition(at=c["at"], firing=c["firing"]) for c in a["transitions"]]
        for a in alert_list
    }
    recovered = _recoveries(game, series, timeline)
    consumed = {
        o.name: round(budget_consumed(series[o.name], budget=o.budget, period_s=game.period_s), 6)
        for o in game.objectives
    }
    injected_phase = _phase_with_role(game, "inject", timeline)
    fix_phase = _phase_with_role(game, "fix", timeline)
    injected = timeline.phases[injected_phase] if injected_phase else None
    mitigate = None
    if fix_phase is not None:
        backs = [recovered[(o.name, fix_phase)] for o in game.objectives]
        if all(b is not None for b in backs):
            mitigate = round(max(b for b in backs if b is not None) - timeline.phases[fix_phase], 3)
    measured = Measured(
        phases=timeline.phases, alerts=alerts, recovered=recovered, budget_consumed=consumed,
        pages=tuple(r.name for r in game.rules if r.severity == "page"),
    )  # fmt: skip
    expectations = [judge(e, measured) for e in game.expectations]
    return {
        "title": game.title,
        "file": game.source,
        "t0": timeline.t0,
        "seconds": round(timeline.end, 3),
        "phases": _phase_figures(game, timeline),
        "time_to_detect_s": _time_to_detect(alerts, game, injected),
        "time_to_mitigate_s": mitigate,
        "error_budget_consumed": consumed,
        "slos": [
            _slo_figures(o, series[o.name], game, fix_phase, recovered) for o in game.objectives
        ],
        "alerts": alert_list,
        "expectations": expectations,
        "passed": all(e["passed"] for e in expectations),
    }


def _phase_figures(game: GameDay, timeline: Timeline) -> list[PhaseFigures]:
    return [
        {
            "name": p.name, "role": p.role, "planned_at": p.at_s,
            "started_at": round(timeline.phases[p.name], 3) if p.name in timeline.phases else None,
            "actions": p.describe(),
        }
        for p in game.phases
    ]  # fmt: skip


def _slo_figures(
    o: Objective,
    series: SliSeries,
    game: GameDay,
    fix_phase: str | None,
    recovered: dict[tuple[str, str], float | None],
) -> GamedaySlo:
    total = int(series.total.sum())
    return {
        "name": o.name,
        "objective": o.text,
        "budget": o.budget,
        "endpoints": list(o.endpoints),
        "requests": total,
        "bad": int(series.bad.sum()),
        "bad_share": round(int(series.bad.sum()) / total, 6) if total else None,
        "back_within_objective_at": recovered.get((o.name, fix_phase)) if fix_phase else None,
        "bad_per_second": np.asarray(series.bad).tolist(),
        "total_per_second": np.asarray(series.total).tolist(),
    }
