"""The run's summary (``summary.json``): composes the processing steps over the loaded data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from reports import open_model
from reports.diagnosis import Figures, diagnose
from reports.gameday import gameday_figures, runbook, timeline_from_events
from reports.gameday_file import parse_gameday
from reports.gauges import gauge_figures, memory_cap
from reports.latency import latency_table
from reports.loop import DEFAULT_STALL_THRESHOLD_MS, loop_figures
from reports.profiled import outside_span, split_profiled
from reports.resources import resource_figures
from reports.rundata import RunData
from reports.selfcheck import self_checks
from reports.slo import Slo, check_slos
from reports.statuses import status_figures
from reports.window import measurement_window


def summarize(data: RunData, *, slos: Sequence[Slo] = ()) -> dict[str, Any]:
    """The summary of a run: requests, loop, resources and diagnosis over the steady window.

    Requests that ran under the profiler are left out of ``requests`` (see ``profile``).
    In rate mode the window is the plan, and requests are in it by their intended time.
    """
    plans = open_model.plan_events(data.events)  # none in closed mode
    if plans.empty:
        window = measurement_window(data.events, data.requests)
        in_window = window.clip(data.requests)
    else:  # rate mode: the requests the plan intended inside it, wherever they were sent
        window = open_model.plan_window(plans)
        in_window = window.clip(data.requests, "intended_t")
    requests, seconds, profile = split_profiled(
        data.events, in_window, window=(window.start, window.end), resources=data.resources
    )
    # The profiler slows the loop too: its window is left out of the loop figures.
    lag = outside_span(window.clip(data.lag), profile)
    stalls = outside_span(window.clip(data.stalls, "start"), profile, "start")
    config = data.run.get("config", {})
    workers = len(data.workers) or int(config.get("workers", 1))
    ends = data.events.loc[data.events["event"] == "run_end"]
    exits = data.events.loc[data.events["event"] == "target_exited"]
    run = {
        "dir": str(data.dir),
        "app": config.get("app"),
        "scenario": config.get("scenario"),
        "faults": config.get("faults", []),
        "workers": config.get("workers"),
        "loop": sorted({w.get("loop", "?") for w in data.workers}) or [config.get("loop")],
        "probe": config.get("probe"),
        "outcome": str(ends["outcome"].iloc[-1]) if not ends.empty else "unknown",
        "duration_s": config.get("duration_s"),
        "interrupted_after_s": interrupted_after_s(data.events),
        "target_exit_code": int(exits["code"].iloc[0]) if not exits.empty else None,
    }
    # Resource figures over the steady window (start-up and drain would dilute CPU means);
    # a run too short to have a sample inside it falls back to every sample.
    clipped = window.clip(data.resources) if not data.resources.empty else data.resources
    steady_resources = clipped if not clipped.empty else data.resources
    table = latency_table(requests, seconds=seconds)
    if not plans.empty:
        table = open_model.with_uncorrected(table, requests, seconds=seconds)
    figures = Figures(
        seconds=seconds,  # the steady window less the profiled span, as the figures cover
        run=run,
        requests=table,
        loop=loop_figures(
            lag,
            stalls,
            workers=workers,
            threshold_ms=float(config.get("stall_threshold_ms", DEFAULT_STALL_THRESHOLD_MS)),
        ),  # fmt: skip
        resources=resource_figures(steady_resources),
        gauges=gauge_figures(window.clip(data.gauges), seconds=window.seconds),
        statuses=status_figures(requests),
        safety=memory_cap(data.gauges, cap_mb=config.get("memory_cap_mb")),
    )
    summary: dict[str, Any] = {
        "run": run,
        "window": {
            "start": window.start,
            "end": window.end,
            "seconds": round(window.seconds, 3),
            "basis": window.basis,
            "requests_outside": int(len(data.requests) - len(in_window)),
        },
        "requests": figures.requests,
        "loop": figures.loop,
        "resources": figures.resources,
        "app": figures.gauges,
        "statuses": figures.statuses,
        "safety": figures.safety,
        "diagnosis": diagnose(figures),
        "profile": profile,
        "self_checks": self_checks(
            requests=in_window,
            resources=window.clip(data.resources) if not data.resources.empty else data.resources,
            aggregate=figures.requests["aggregate"],
            run_requests=data.requests,
        ),
        "slo": check_slos(list(slos), figures.requests["aggregate"]),
        "open_model": None
        if plans.empty
        else open_model.sender_figures(requests, data.events, seconds=seconds),
    }
    if data.gameday_text is not None:
        summary["gameday"] = gameday_section(data, summary["diagnosis"])
    return summary


def interrupted_after_s(events: pd.DataFrame) -> float | None:
    """Seconds of load before the run was interrupted (0.0: before the load started);
    None when it was not interrupted."""
    if events.empty or "event" not in events:
        return None
    stops = events.loc[events["event"] == "interrupted", "t"]
    if stops.empty:
        return None
    starts = events.loc[(events["event"] == "load_start") & (events["t"] <= stops.iloc[0]), "t"]
    return 0.0 if starts.empty else round(float(stops.iloc[0] - starts.min()), 1)


def gameday_section(data: RunData, diagnosis: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``gameday`` section: the exercise's figures over its whole timeline, and a runbook."""
    assert data.gameday_text is not None
    game = parse_gameday(data.gameday_text, source=str(data.dir / "gameday.toml"))
    timeline = timeline_from_events(data.events, data.requests)
    if timeline is None:
        return {"title": game.title, "started": False, "passed": False, "expectations": [
            {"text": e.text, "passed": False, "actual": "the exercise never started"}
            for e in game.expectations
        ], "alerts": [], "time_to_detect_s": None, "time_to_mitigate_s": None,
            "error_budget_consumed": {}, "runbook": runbook(diagnosis)}  # fmt: skip
    return {
        **gameday_figures(game, data.requests, timeline),
        "started": True,
        "runbook": runbook(diagnosis),
    }
