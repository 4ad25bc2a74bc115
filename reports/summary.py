"""The run's summary (``summary.json``): composes the processing steps over the loaded data."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from lagscope.reports import open_model
from lagscope.reports.client_errors import client_error_figures
from lagscope.reports.coverage import coverage
from lagscope.reports.diagnosis import diagnose
from lagscope.reports.environment import environment
from lagscope.reports.findings import Figures
from lagscope.reports.gameday import Timeline, gameday_figures, runbook, timeline_from_events
from lagscope.reports.gameday_file import parse_gameday
from lagscope.reports.gauges import gauge_figures, memory_cap
from lagscope.reports.gcpauses import attribute_to_gc, gc_figures
from lagscope.reports.injected import active, injection_windows, label
from lagscope.reports.latency import latency_table
from lagscope.reports.load_workers import load_worker_figures, load_workers_note
from lagscope.reports.loop import DEFAULT_STALL_THRESHOLD_MS, loop_figures
from lagscope.reports.profiled import outside_span, split_profiled
from lagscope.reports.remote_checks import inside_view_missing, load_workers_lost
from lagscope.reports.resources import resource_figures
from lagscope.reports.rundata import RunData
from lagscope.reports.selfcheck import self_checks
from lagscope.reports.slo import check_slos
from lagscope.reports.slo_spec import Slo
from lagscope.reports.statuses import status_figures
from lagscope.reports.summary_types import (
    Finding,
    GamedaySection,
    Injected,
    RunSection,
    Summary,
)
from lagscope.reports.window import Window, measurement_window
from lagscope.reports.workers import worker_lives

from lagscope import rundir


def summarize(data: RunData, *, slos: Sequence[Slo] = ()) -> Summary:
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
    ends = data.events.loc[data.events["event"] == "run_end"]
    exits = data.events.loc[data.events["event"] == "target_exited"]
    run: RunSection = {
        "dir": str(data.dir),
        "app": config.get("app"),
        "scenario": config.get("scenario"),
        "faults": config.get("faults", []),
        "conditions": config.get("conditions", []),  # what the faults set (run.json)
        "workers": config.get("workers"),
        "loop": sorted({w.get("loop", "?") for w in data.workers}) or [config.get("loop")],
        "probe": config.get("probe"),
        "outcome": str(ends["outcome"].iloc[-1]) if not ends.empty else "unknown",
        "duration_s": config.get("duration_s"),
        "interrupted_after_s": interrupted_after_s(data.events),
        "target_exit_code": int(exits["code"].iloc[0]) if not exits.empty else None,
        "target_ready": bool((data.events["event"] == "target_ready").any()),
    }
    refusals = data.events.loc[data.events["event"] == "run_refused"]
    if not refusals.empty:
        run["refused"] = str(refusals["reason"].iloc[-1])
    figures = window_figures(
        data, window, run=run, requests=requests, lag=lag, stalls=stalls,
        seconds=seconds,  # the steady window less the profiled span, as the figures cover
        rate_mode=not plans.empty,
    )  # fmt: skip
    injected = injection_windows(data.injections, end=run_end(data.events))
    env = environment(data.events, data.requests, window)
    workers = load_worker_figures(data.events, data.requests, start=run_start(data.events))
    summary: Summary = {
        "run": run,
        "window": {
            "start": window.start,
            "end": window.end,
            "seconds": round(window.seconds, 3),
            "basis": window.basis,
            "requests_outside": int(len(data.requests) - len(in_window)),
        },
        "requests": figures.requests,
        "scenario": {
            "name": config.get("scenario"),
            "coverage": coverage(data.openapi_plan, data.requests),
        },
        "loop": figures.loop,
        "resources": figures.resources,
        "app": figures.gauges,
        "gc": figures.gc,
        "statuses": figures.statuses,
        "client_errors": figures.client_errors,
        "safety": figures.safety,
        "diagnosis": label(diagnose(figures), active(injected, window.start, window.end)),
        "injected": injected,
        "profile": profile,
        "self_checks": self_checks(
            requests=in_window,
            resources=window.clip(data.resources) if not data.resources.empty else data.resources,
            aggregate=figures.requests["aggregate"],
            run_requests=data.requests,
            loop=figures.loop,
            environment=env,
            duration_s=config.get("duration_s"),
            cores=data.run.get("host", {}).get("cpu_count"),
        )
        + inside_view_missing(config, probed_workers=len(data.workers) + int(not data.lag.empty))
        + load_workers_lost(data.events, start=run_start(data.events))
        + load_workers_note(workers),
        "environment": env,
        "slo": check_slos(list(slos), figures.requests["aggregate"], requests=requests),
        "open_model": None
        if plans.empty
        else open_model.sender_figures(requests, data.events, seconds=seconds),
    }
    if workers:
        summary["load_workers"] = workers
    if data.gameday_text is not None:
        # An incident confined to one phase is diluted over the whole exercise: each
        # phase is diagnosed on its own too, and what it alone shows joins the diagnosis.
        timeline = timeline_from_events(data.events, data.requests)
        if timeline is not None:
            by_phase = phase_diagnosis(
                data, timeline, run=run, rate_mode=not plans.empty, injected=injected
            )
            summary["diagnosis"] = merge_findings(summary["diagnosis"], by_phase)
        summary["gameday"] = gameday_section(data, timeline, summary["diagnosis"])
    return summary


def window_figures(
    data: RunData,
    window: Window,
    *,
    run: RunSection,
    requests: pd.DataFrame,
    lag: pd.DataFrame,
    stalls: pd.DataFrame,
    seconds: float,
    rate_mode: bool,
) -> Figures:
    """What the rules read, over ``window``: the given requests, lag and stalls (already
    clipped to it) and the run's resources and gauges clipped here."""
    config = data.run.get("config", {})
    workers = len(data.workers) or int(config.get("workers", 1))
    # Resources over the window (start-up and drain would dilute CPU means); a window too
    # short to hold a sample falls back to every sample.
    clipped = window.clip(data.resources) if not data.resources.empty else data.resources
    resources = clipped if not clipped.empty else data.resources
    table = latency_table(requests, seconds=seconds)
    if rate_mode:
        table = open_model.with_uncorrected(table, requests, seconds=seconds)
    threshold_ms = float(config.get("stall_threshold_ms", DEFAULT_STALL_THRESHOLD_MS))
    # A stall the garbage collector explains is the collector's, not the line it interrupted.
    collections = window.clip(data.gc)
    stalls = attribute_to_gc(stalls, collections)
    return Figures(
        seconds=seconds,
        run=run,
        requests=table,
        loop=loop_figures(lag, stalls, workers=workers, threshold_ms=threshold_ms),
        gc=gc_figures(
            collections,
            stalls,
            requests,
            threshold_ms=threshold_ms,
            seconds=seconds,
            workers=workers,
        ),  # fmt: skip
        resources=resource_figures(resources),
        gauges=gauge_figures(
            window.clip(data.gauges), seconds=window.seconds, cap_mb=config.get("memory_cap_mb")
        ),
        statuses=status_figures(requests, data.exceptions),
        client_errors=client_error_figures(requests, window.clip(data.error_bodies)),
        safety=memory_cap(data.gauges, cap_mb=config.get("memory_cap_mb")),
        target_log=data.target_log,
        processes=worker_lives(data.workers, data.lag, start=window.start, end=window.end),
    )


WHOLE_RUN_KINDS = {"no_requests", "target_crashed"}  # about the run, not about one phase


def phase_windows(timeline: Timeline) -> list[tuple[str, Window]]:
    """Each phase of a game day as a window, from its start to the next phase's (or the end)."""
    starts = sorted(timeline.phases.items(), key=lambda item: item[1])
    ends = [at for _, at in starts[1:]] + [timeline.end]
    return [
        (name, Window(start=timeline.t0 + at, end=timeline.t0 + end, basis=f"phase {name}"))
        for (name, at), end in zip(starts, ends, strict=True)
        if end > at
    ]


def phase_diagnosis(
    data: RunData,
    timeline: Timeline,
    *,
    run: RunSection,
    rate_mode: bool,
    injected: Sequence[Injected] = (),
) -> list[Finding]:
    """The findings of each game-day phase diagnosed alone, each tagged with its phase."""
    found: list[Finding] = []
    for name, window in phase_windows(timeline):
        requests = window.clip(data.requests, "intended_t" if rate_mode else "t")
        if requests.empty:
            continue  # nothing to judge (the whole run says whether requests were missing)
        figures = window_figures(
            data, window, run=run, requests=requests, lag=window.clip(data.lag),
            stalls=window.clip(data.stalls, "start"), seconds=window.seconds,
            rate_mode=rate_mode,
        )  # fmt: skip
        start, end = window.start - timeline.t0, window.end - timeline.t0
        for finding in label(diagnose(figures), active(injected, window.start, window.end)):
            if finding["kind"] in WHOLE_RUN_KINDS:
                continue
            found.append({
                **finding,
                "phase": name,
                "summary": f"During {name} ({start:.0f}–{end:.0f} s): {finding['summary']}",
            })  # fmt: skip
    return found


def merge_findings(whole: list[Finding], by_phase: list[Finding]) -> list[Finding]:
    """The whole run's findings, then each (kind, location) only a phase showed, once (its
    first phase), critical before warning."""
    seen = {(f["kind"], f.get("location")) for f in whole}
    extra = []
    for finding in by_phase:
        key = (finding["kind"], finding.get("location"))
        if key not in seen:
            seen.add(key)
            extra.append(finding)
    rank = {"critical": 0, "warning": 1}
    return sorted([*whole, *extra], key=lambda f: rank.get(f["severity"], 2))


def run_end(events: pd.DataFrame) -> float | None:
    """When the run ended (its ``run_end`` event), or None for a run still going."""
    ends = events.loc[events["event"] == "run_end"] if "event" in events else events
    return float(ends["t"].iloc[-1]) if not ends.empty else None


def run_start(events: pd.DataFrame) -> float | None:
    """When the run started (its ``run_start`` event), or None."""
    starts = events.loc[events["event"] == "run_start"] if "event" in events else events
    return float(starts["t"].iloc[0]) if not starts.empty else None


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


def gameday_section(
    data: RunData, timeline: Timeline | None, diagnosis: list[Finding]
) -> GamedaySection:
    """The ``gameday`` section: the exercise's figures over its whole ``timeline`` (None when
    no phase started), and a runbook."""
    assert data.gameday_text is not None
    game = parse_gameday(data.gameday_text, source=str(data.dir / rundir.GAMEDAY_TOML))
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
