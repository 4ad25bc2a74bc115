"""The run's summary (``summary.json``): composes the processing steps over the loaded data."""

from __future__ import annotations

from typing import Any

from reports.diagnosis import Figures, diagnose
from reports.gauges import gauge_figures, memory_cap
from reports.latency import latency_table
from reports.loop import loop_figures
from reports.resources import resource_figures
from reports.rundata import RunData
from reports.statuses import status_figures
from reports.window import measurement_window


def summarize(data: RunData) -> dict[str, Any]:
    """The summary of a run: requests, loop, resources and diagnosis over the steady window."""
    window = measurement_window(data.events, data.requests)
    requests = window.clip(data.requests)
    lag = window.clip(data.lag)
    stalls = window.clip(data.stalls, "start")
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
        "target_exit_code": int(exits["code"].iloc[0]) if not exits.empty else None,
    }
    figures = Figures(
        seconds=window.seconds,
        run=run,
        requests=latency_table(requests, seconds=window.seconds),
        loop=loop_figures(lag, stalls, workers=workers),
        resources=resource_figures(data.resources),
        gauges=gauge_figures(window.clip(data.gauges), seconds=window.seconds),
        statuses=status_figures(requests),
        safety=memory_cap(data.gauges, cap_mb=config.get("memory_cap_mb")),
    )
    return {
        "run": run,
        "window": {
            "start": window.start,
            "end": window.end,
            "seconds": round(window.seconds, 3),
            "basis": window.basis,
            "requests_outside": int(len(data.requests) - len(requests)),
        },
        "requests": figures.requests,
        "loop": figures.loop,
        "resources": figures.resources,
        "app": figures.gauges,
        "statuses": figures.statuses,
        "safety": figures.safety,
        "diagnosis": diagnose(figures),
    }
