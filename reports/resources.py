"""Resource figures per role (target, load_generator, downstream) from ``resources.csv``."""

from __future__ import annotations

import pandas as pd
from lagscope.reports.summary_types import RoleResources


def role_totals(resources: pd.DataFrame) -> pd.DataFrame:
    """Per role and sample time: the sums over the role's processes."""
    columns = ["rss_mb", "cpu_pct", "threads", "fds", "connections"]
    present = [c for c in columns if c in resources]
    return resources.groupby(["role", "t"], sort=True)[present].sum().reset_index()


def resource_figures(resources: pd.DataFrame) -> dict[str, RoleResources]:
    """start/end/peak RSS, mean/max CPU %, max fds and threads of each role's process tree."""
    if resources.empty:
        return {}
    figures: dict[str, RoleResources] = {}
    for role, series in role_totals(resources).groupby("role", sort=True):
        series = series.sort_values("t")
        rss = series["rss_mb"]
        figures[str(role)] = {
            "samples": int(len(series)),
            "processes": int(resources.loc[resources["role"] == role, "pid"].nunique()),
            "rss_mb_start": round(float(rss.iloc[0]), 2),
            "rss_mb_end": round(float(rss.iloc[-1]), 2),
            "rss_mb_peak": round(float(rss.max()), 2),
            "cpu_pct_mean": round(float(series["cpu_pct"].mean()), 1),
            "cpu_pct_max": round(float(series["cpu_pct"].max()), 1),
            "fds_max": int(series["fds"].max()),
            "threads_max": int(series["threads"].max()),
        }
    return figures
