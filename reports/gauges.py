"""App-side gauge figures per worker (``workers/<pid>/gauges.csv``) over the steady window.

Pure: data frames in, plain dicts out (typed in ``reports.summary_types``).  The rules in
``reports/rules/`` read these.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from lagscope.reports.summary_types import (
    AppSection,
    GrowthFigures,
    HeldTrend,
    LogFigures,
    PoolFigures,
    RssFigures,
    SafetySection,
    SiteTrend,
    TaskFigures,
    Trend,
    WorkerGauges,
)
from lagscope.reports.trend import trend

EDGE = 3  # samples averaged at each end of the window for start/end levels
SITES_KEPT = 5  # growing wait sites kept per worker (the most risen first)


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(dtype=float)
    return pd.to_numeric(frame[column], errors="coerce")


def _mode(values: pd.Series) -> str | None:
    values = values.dropna().astype(str)
    values = values[values != ""]
    return None if values.empty else str(values.mode().iloc[0])


def _slope(t: pd.Series, y: pd.Series) -> float:
    ok = t.notna() & y.notna()
    if ok.sum() < 3 or float(t[ok].max() - t[ok].min()) <= 0:
        return 0.0
    return float(np.polyfit(t[ok].to_numpy(float), y[ok].to_numpy(float), 1)[0])


def _has(frame: pd.DataFrame, column: str) -> bool:
    return bool(_num(frame, column).notna().any())


def _tasks(g: pd.DataFrame) -> TaskFigures:
    if not _has(g, "tasks"):
        return {}
    tasks = _num(g, "tasks")
    return {
        "start": round(float(tasks.head(EDGE).median()), 1),
        "end": round(float(tasks.tail(EDGE).median()), 1),
        "max": int(tasks.max()),
        "growth_per_s": round(_slope(g["t"], tasks), 2),
        "wait_top": _mode(g.tail(max(len(g) // 3, 1)).get("tasks_wait_top", pd.Series())),
        "wait_top_max": int(_num(g, "tasks_wait_count").fillna(0).max() or 0),
    }


def _saturation(busy: pd.Series, total: pd.Series, waiting: pd.Series) -> PoolFigures:
    known = total.notna() & (total > 0)
    if not known.any():
        return {"capacity": None}
    saturated = (busy >= total) & known
    return {
        "capacity": int(total[known].max()),
        "busy_max": int(busy[known].max()),
        "busy_mean": round(float(busy[known].mean()), 2),
        "saturated_share": round(float(saturated.sum() / known.sum()), 3),
        "waiting_max": int(waiting[known].max()),
        "waiting_share": round(float((waiting[known] > 0).sum() / known.sum()), 3),
        "busy_min_after_saturation": (
            int(busy[known][saturated.cumsum() > 0].min()) if saturated.any() else None
        ),
    }


def _site_while(g: pd.DataFrame, mask: pd.Series) -> str | None:
    """Where requests (else any tasks) mostly waited in the samples ``mask`` selects."""
    if not mask.any():
        return None
    for column in ("requests_wait_top", "tasks_wait_top"):
        if column in g:
            site = _mode(g.loc[mask, column])
            if site is not None:
                return site
    return None


def _request_waits(g: pd.DataFrame) -> dict[str, str]:
    """For each endpoint, the site where its requests were most often seen waiting."""
    if "requests_wait_endpoint" not in g:
        return {}
    waits = {}
    for endpoint, rows in g.groupby("requests_wait_endpoint", sort=True):
        site = _mode(rows["requests_wait_top"]) if str(endpoint) else None
        if site is not None:
            waits[str(endpoint)] = site
    return waits


def _trend(g: pd.DataFrame, values: pd.Series) -> Trend | None:
    found = trend(g["t"].to_numpy(float), values.to_numpy(float))
    return None if found is None else found.to_json()


def _site_counts(g: pd.DataFrame) -> pd.DataFrame:
    """Tasks waiting at each site per sample (0 where a site was not among the kept ones):
    from ``tasks_wait_sites``, else (an older probe) from the top site alone."""
    if "tasks_wait_sites" in g:
        rows = [
            json.loads(cell) if isinstance(cell, str) and cell.startswith("{") else {}
            for cell in g["tasks_wait_sites"]
        ]
        return pd.DataFrame(rows, index=g.index, dtype=float).fillna(0.0)
    if "tasks_wait_top" not in g:
        return pd.DataFrame(index=g.index)
    counts = _num(g, "tasks_wait_count").fillna(0.0)
    tops = g["tasks_wait_top"].fillna("").astype(str)
    return pd.DataFrame(
        {site: counts.where(tops == site, 0.0) for site in tops.unique() if site}, index=g.index
    )


def growth(g: pd.DataFrame) -> GrowthFigures:
    """The shape (reports.trend) of each gauge a leak grows: pending tasks, the tasks at
    each wait site (only the sites that grow), RSS, DB connections checked out, sessions
    held (with the site most of them were opened at) and the threadpool's queue.

    A series the file lacks is None.  Rules decide what is a leak (relative to the load).
    """
    sites: list[SiteTrend] = []
    for site, counts in _site_counts(g).items():
        found = _trend(g, counts)
        if found is not None and found["shape"] == "growing":
            sites.append(SiteTrend(site=str(site), **found))
    sites.sort(key=lambda s: s["rise"], reverse=True)
    held: HeldTrend | None = None
    if _has(g, "db_held_count"):
        counts = _num(g, "db_held_count").fillna(0.0)
        found = _trend(g, counts)
        if found is not None:
            where = _mode(g.loc[counts > 0, "db_held_top"]) if "db_held_top" in g else None
            held = HeldTrend(site=where, **found)
    return {
        "tasks": _trend(g, _num(g, "tasks")) if _has(g, "tasks") else None,
        "task_sites": sites[:SITES_KEPT],
        "rss_mb": _trend(g, _num(g, "rss_mb")) if _has(g, "rss_mb") else None,
        "db_checked_out": (
            _trend(g, _num(g, "db_checked_out")) if _has(g, "db_checked_out") else None
        ),
        "db_held": held,
        "threads_waiting": (
            _trend(g, _num(g, "threads_waiting")) if _has(g, "threads_waiting") else None
        ),
    }


def before_cap(g: pd.DataFrame, cap_mb: float | None) -> pd.DataFrame:
    """The rows before the worker's RSS first reached ``cap_mb``: a seeded leak stops
    growing there, and its levelling off is the cap's, not the leak's."""
    if cap_mb is None or not _has(g, "rss_mb"):
        return g
    over = (_num(g, "rss_mb") >= cap_mb).to_numpy()
    return g if not over.any() else g.iloc[: int(np.argmax(over))]


def worker_gauges(g: pd.DataFrame, *, seconds: float, cap_mb: float | None = None) -> WorkerGauges:
    """The figures of one worker's gauge rows inside the window (sorted by ``t``).

    A section is empty (``{}``, or ``capacity: None``) when the file lacks its columns:
    a gauges.csv may come from another probe or hold other gauges.  ``growth`` is judged
    on the rows before the worker reached ``cap_mb`` (the seeded leaks' memory cap).
    """
    g = g.sort_values("t")
    threads = _saturation(
        _num(g, "threads_busy"), _num(g, "threads_total"), _num(g, "threads_waiting")
    )
    db = _saturation(_num(g, "db_checked_out"), _num(g, "db_capacity"), _num(g, "db_waiting"))
    db["dialects"] = _mode(g.get("db_dialects", pd.Series()))
    threads["wait_site"] = _site_while(g, _num(g, "threads_waiting") > 0)
    db["wait_site"] = _site_while(g, _num(g, "db_waiting") > 0)
    if "db_held_top" in g:  # where the sessions holding connections 2 s and more opened
        held = _num(g, "db_held_count").fillna(0)
        db["held_site"] = _mode(g.loc[held > 0, "db_held_top"])
        db["held_max"] = int(held.max()) if len(held) else 0
    return {
        "samples": int(len(g)),
        "tasks": _tasks(g),
        "request_waits": _request_waits(g),
        "threads": threads,
        "db": db,
        "logs": _logs(g, seconds=seconds),
        "rss_mb": _rss(g),
        "growth": growth(before_cap(g, cap_mb)),
    }


def _logs(g: pd.DataFrame, *, seconds: float) -> LogFigures:
    if not _has(g, "log_records"):
        return {}
    records, nbytes = _num(g, "log_records"), _num(g, "log_bytes").fillna(0)
    span = max(float(g["t"].max() - g["t"].min()), 1e-9) if len(g) > 1 else seconds
    log_records = float(records.max() - records.min()) if len(g) > 1 else 0.0
    log_bytes = float(nbytes.max() - nbytes.min()) if len(g) > 1 else 0.0
    return {
        "records": int(log_records),
        "bytes": int(log_bytes),
        "records_per_s": round(log_records / span, 1),
        "bytes_per_s": round(log_bytes / span, 1),
        "top_source": _mode(g.tail(max(len(g) // 3, 1)).get("log_top", pd.Series())),
    }


def _rss(g: pd.DataFrame) -> RssFigures:
    if not _has(g, "rss_mb"):
        return {}
    rss = _num(g, "rss_mb")
    return {
        "start": round(float(rss.head(EDGE).median()), 1),
        "end": round(float(rss.tail(EDGE).median()), 1),
        "max": round(float(rss.max()), 1),
    }


def gauge_figures(
    gauges: pd.DataFrame, *, seconds: float, cap_mb: float | None = None
) -> AppSection:
    """``{"workers": {pid: figures}}`` for every worker with at least two samples."""
    workers = {
        str(pid): worker_gauges(group, seconds=seconds, cap_mb=cap_mb)
        for pid, group in gauges.groupby("pid", sort=True)
        if len(group) >= 2
    } if not gauges.empty else {}  # fmt: skip
    return {"workers": workers}


def memory_cap(gauges: pd.DataFrame, *, cap_mb: float | None) -> SafetySection:
    """Whether any worker reached the seeded faults' memory cap during the whole run."""
    if gauges.empty or cap_mb is None or "rss_mb" not in gauges:
        return {"memory_cap_mb": cap_mb, "cap_hit": False, "workers_at_cap": [], "rss_mb_max": None}
    rss = _num(gauges, "rss_mb")
    at_cap = sorted(str(pid) for pid in gauges.loc[rss >= cap_mb, "pid"].unique())
    return {
        "memory_cap_mb": cap_mb,
        "cap_hit": bool(at_cap),
        "workers_at_cap": at_cap,
        "rss_mb_max": round(float(rss.max()), 1),
    }
