"""Builds deploy/grafana/dashboards/lagscope.json, the Grafana dashboard of the probe's metrics.

    python deploy/grafana/dashboard.py > deploy/grafana/dashboards/lagscope.json

Every query reads only what ``instrument(app, metrics_path=...)`` exports
(``lagscope.metric_names``) and the rules of ``lagscope slo rules``;
tests/test_dashboard.py checks that, has promtool parse every query, and keeps the JSON
equal to this script's output.  The SLO panels need those rules loaded in Prometheus.
"""

from __future__ import annotations

import json
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "lagscope-prometheus"}
RATE = "$__rate_interval"
WIDTH = 24

Target = tuple[str, str]  # (PromQL, legend)


def _targets(queries: list[Target], *, instant: bool = False) -> list[dict[str, Any]]:
    return [
        {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr,
         "legendFormat": legend, "range": not instant, "instant": instant,
         **({"format": "table"} if instant else {})}
        for n, (expr, legend) in enumerate(queries)
    ]  # fmt: skip


class Layout:
    """Places panels left to right in rows of 24 units; ids in order."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = 0
        self.row_h = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": self.y}})  # fmt: skip
        self.y += 1

    def _newline(self) -> None:
        if self.x:
            self.y += self.row_h
            self.x = self.row_h = 0

    def add(self, panel: dict[str, Any], *, w: int, h: int = 8) -> None:
        if self.x + w > WIDTH:
            self._newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def numbered(self) -> list[dict[str, Any]]:
        for n, panel in enumerate(self.panels, 1):
            panel["id"] = n
        return self.panels


def timeseries(title: str, queries: list[Target], *, unit: str, description: str = "",
               stack: bool = False) -> dict[str, Any]:  # fmt: skip
    custom: dict[str, Any] = {"lineWidth": 1, "fillOpacity": 10 if not stack else 40,
                              "showPoints": "never"}  # fmt: skip
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    return {
        "type": "timeseries", "title": title, "description": description,
        "datasource": DATASOURCE, "targets": _targets(queries),
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }  # fmt: skip


def stat(title: str, queries: list[Target], *, unit: str, description: str = "",
         thresholds: list[tuple[float | None, str]] | None = None) -> dict[str, Any]:  # fmt: skip
    steps = [{"value": v, "color": c} for v, c in (thresholds or [(None, "green")])]
    return {
        "type": "stat", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": _targets(queries),
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute",
                                                                  "steps": steps}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "value_and_name"},
    }  # fmt: skip


def table(title: str, queries: list[Target], *, description: str = "") -> dict[str, Any]:
    return {
        "type": "table", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": _targets(queries, instant=True),
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True},
                                           "renameByName": {"Value #A": "blocked (s)",
                                                            "Value #B": "stalls"}}},
            {"id": "sortBy", "options": {"sort": [{"field": "blocked (s)", "desc": True}]}},
        ],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"showHeader": True},
    }  # fmt: skip


def panels() -> list[dict[str, Any]]:
    p = Layout()
    p.row("SLOs (rules from `lagscope slo rules`)")
    p.add(stat("Error budget remaining", [
        ("lagscope:slo_error_budget:remaining_ratio", "{{slo}} {{objective}}")],
        unit="percentunit", thresholds=[(None, "red"), (0.25, "orange"), (0.5, "green")],
        description="1 - (bad share over the SLO period) / budget"), w=8)  # fmt: skip
    p.add(timeseries("Burn rate (5m and 1h windows)", [
        ("lagscope:slo_bad:ratio_rate5m / on(slo, objective) lagscope:slo_budget:ratio",
         "{{slo}} 5m"),
        ("lagscope:slo_bad:ratio_rate1h / on(slo, objective) lagscope:slo_budget:ratio",
         "{{slo}} 1h"),
    ], unit="x", description="Bad share over the window divided by the budget; "
       "the fast-burn page fires when both exceed 14.4"), w=16)  # fmt: skip
    p.row("Requests (RED, by route template)")
    p.add(timeseries("Throughput", [
        (f"sum by (method, route) (rate(http_requests_total[{RATE}]))", "{{method}} {{route}}")],
        unit="reqps", stack=True), w=8)  # fmt: skip
    p.add(timeseries("Errors (5xx share)", [
        (f'sum by (route) (rate(http_requests_total{{status=~"5.."}}[{RATE}])) '
         f"/ sum by (route) (rate(http_requests_total[{RATE}]))", "{{route}}")],
        unit="percentunit"), w=8)  # fmt: skip
    p.add(timeseries("Latency P95 / P99 by route", [
        (f"histogram_quantile({q}, sum by (le, method, route) "
         f"(rate(http_request_duration_seconds_bucket[{RATE}])))",
         f"P{q[2:]} {{{{method}}}} {{{{route}}}}") for q in ("0.95", "0.99")],
        unit="s"), w=8)  # fmt: skip
    p.row("Event loop")
    p.add(timeseries("Loop lag per worker (P50, P99)", [
        (f"histogram_quantile({q}, sum by (le, instance, worker) "
         f"(rate(lagscope_loop_lag_seconds_bucket[{RATE}])))", f"P{q[2:]} {{{{worker}}}}")
        for q in ("0.5", "0.99")
    ] + [("max(lagscope_loop_stall_threshold_seconds)", "stall threshold")],
        unit="s", description="How late the probe's 10 ms heartbeat woke"), w=12)  # fmt: skip
    p.add(timeseries("Loop time blocked, by location", [
        (f"sum by (location) (rate(lagscope_loop_blocked_seconds_total[{RATE}]))",
         "{{location}}")],
        unit="percentunit", stack=True,
        description="Share of one loop's time stalled, summed over workers"), w=12)  # fmt: skip
    p.add(table("Stalls by location (the line that blocked the loop)", [
        ("sort_desc(sum by (location, endpoint, cause) "
         "(increase(lagscope_loop_blocked_seconds_total[$__range])))", ""),
        ("sum by (location, endpoint, cause) (increase(lagscope_loop_stalls_total[$__range]))",
         ""),
    ], description="Over the dashboard's time range; cause: cpu = computing, "
       "wait = in a blocking call"), w=24, h=7)  # fmt: skip
    p.row("Pools, tasks, threads, memory")
    p.add(timeseries("DB pool (per engine)", [
        ("sum by (engine) (lagscope_db_pool_checked_out)", "checked out {{engine}}"),
        ("sum by (engine) (lagscope_db_pool_size)", "capacity {{engine}}"),
        ("sum by (engine) (lagscope_db_pool_waiting)", "waiting {{engine}}"),
    ], unit="short"), w=8)  # fmt: skip
    p.add(timeseries("Threadpool (anyio)", [
        ("sum(lagscope_threadpool_busy)", "busy"),
        ("sum(lagscope_threadpool_total)", "total"),
        ("sum(lagscope_threadpool_waiting)", "waiting"),
    ], unit="short"), w=8)  # fmt: skip
    p.add(timeseries("Pending asyncio tasks per worker", [
        ("lagscope_tasks_pending", "{{worker}}")], unit="short"), w=8)  # fmt: skip
    p.add(timeseries("GC pauses by generation (P99)", [
        (f"histogram_quantile(0.99, sum by (le, generation) "
         f"(rate(lagscope_gc_pause_seconds_bucket[{RATE}])))", "gen {{generation}}")],
        unit="s", description="Each collection holds the GIL: the loop stalls that long"),
        w=8)  # fmt: skip
    p.add(timeseries("Resident memory per worker", [
        ("lagscope_resident_memory_bytes", "{{worker}}")], unit="bytes"), w=8)  # fmt: skip
    p.add(timeseries("Log output", [
        (f"sum(rate(lagscope_log_records_total[{RATE}]))", "records/s"),
        (f"sum(rate(lagscope_log_bytes_total[{RATE}]))", "bytes/s"),
    ], unit="short"), w=8)  # fmt: skip
    return p.numbered()


def dashboard() -> dict[str, Any]:
    return {
        "uid": "lagscope", "title": "lagscope: event loop, SLOs, RED", "tags": ["lagscope"],
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"}, "timezone": "",
        "annotations": {"list": []}, "templating": {"list": []}, "panels": panels(),
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(dashboard(), indent=2))
