"""The Grafana dashboard: equal to its generator's output, every query parsed by promtool,
and every metric it reads exported by the probe or recorded by `lagscope slo rules`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from lagscope.reports import prom_rules
from lagscope.reports.renderers.rules_yaml import render_rules
from lagscope.reports.slo_spec import parse_slos

from lagscope import metric_names as names
from tests.prometheus.promtool import run_promtool

REPO = Path(__file__).resolve().parents[1]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "lagscope.json"
# Grafana's own variables, as a query would see them over the last 30 minutes.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "30m"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}  # fmt: skip


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def queries(dashboard: dict[str, Any]) -> list[str]:
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append(expr)
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` reads: identifiers that are no function, keyword or label."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    found = set()
    for match in re.finditer(r"(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue
        found.add(match.group())
    return found


def recorded_names() -> set[str]:
    objectives, _ = prom_rules.objectives_from_slos(parse_slos(["default"]))
    ruleset = prom_rules.build_rules(objectives)
    return {r["record"] for g in ruleset.groups for r in g["rules"] if "record" in r}


def test_the_dashboard_is_its_generators_output() -> None:
    done = subprocess.run([sys.executable, str(GRAFANA / "dashboard.py")], capture_output=True,
                          text=True, check=True, timeout=60)  # fmt: skip
    assert json.loads(done.stdout) == load(), "run: python deploy/grafana/dashboard.py > " + str(
        DASHBOARD.relative_to(REPO)
    )


def test_every_query_reads_only_exported_or_recorded_metrics() -> None:
    allowed = names.scraped_names() | recorded_names()
    used = set().union(*(metric_names(q) for q in queries(load())))
    assert used - allowed == set()
    assert {names.LOOP_STALLS, names.LOOP_BLOCKED, f"{names.LOOP_LAG}_bucket"} <= used


def test_the_name_check_can_fail() -> None:
    expr = 'sum by (le) (rate(nodejs_eventloop_lag_seconds{x="a b"}[5m])) > bool 1e3'
    assert metric_names(expr) == {"nodejs_eventloop_lag_seconds"}


def test_promtool_parses_every_query(tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:query_{n}", "expr": expr}
             for n, expr in enumerate(queries(load()))]  # fmt: skip
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(render_rules([{"name": "dashboard", "rules": rules}]), encoding="utf-8")
    assert f"SUCCESS: {len(rules)} rules found" in run_promtool("check", "rules", path)


def test_the_panels_the_issue_asks_for_are_there() -> None:
    titles = " | ".join(p["title"] for p in load()["panels"])
    for part in (
        "Error budget",
        "Burn rate",
        "Latency P95 / P99 by route",
        "Loop lag per worker",
        "Stalls by location",
        "DB pool",
        "Threadpool",
        "Pending asyncio tasks",
        "GC pauses",
    ):
        assert part in titles  # fmt: skip
    table = next(p for p in load()["panels"] if p["title"].startswith("Stalls by location"))
    assert table["type"] == "table"


def test_the_provisioning_points_at_the_dashboard_and_the_datasource() -> None:
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    used = {t["datasource"]["uid"] for p in load()["panels"] for t in p.get("targets", [])}
    assert used == {uid}
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/lagscope.yml").read_text())
    dockerfile = (GRAFANA / "Dockerfile").read_text()
    folder = provider["providers"][0]["options"]["path"]
    assert f"COPY deploy/grafana/dashboards/ {folder}/" in dockerfile


@pytest.mark.parametrize("panel", [p for p in load()["panels"] if p["type"] != "row"],
                         ids=lambda p: str(p["id"]))  # fmt: skip
def test_every_panel_has_a_place_and_a_query(panel: dict[str, Any]) -> None:
    assert panel["targets"]
    assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
