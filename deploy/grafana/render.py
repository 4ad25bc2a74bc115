"""Renders the Grafana dashboard's panels from a Prometheus server, without Grafana.

    python deploy/grafana/render.py --prometheus http://127.0.0.1:9090 --minutes 5 \
        --out docs/images/dashboard.png

Every panel of deploy/grafana/dashboards/lagscope.json is drawn where its ``gridPos``
puts it, from the same PromQL (Grafana's ``$__rate_interval`` and ``$__range`` filled in
as Grafana would): time series over the range, stats and tables at its end.  Used for
the README's picture, where Grafana itself could not be installed (matplotlib instead).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
from matplotlib.figure import Figure

DASHBOARD = Path(__file__).resolve().parent / "dashboards" / "lagscope.json"
UNIT = 0.55  # inches per grid unit of width
ROW_H = 0.42  # inches per grid unit of height


def fill(expr: str, *, rate: str, range_: str) -> str:
    return expr.replace("$__rate_interval", rate).replace("$__range", range_)


def legend(template: str, labels: dict[str, str]) -> str:
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)
    return text.strip() or ", ".join(f"{k}={v}" for k, v in labels.items() if k != "__name__")


def scale(unit: str) -> tuple[float, str]:
    """Factor and axis label for a Grafana unit."""
    return {"s": (1000.0, "ms"), "percentunit": (100.0, "%"), "bytes": (1e-6, "MB"),
            "reqps": (1.0, "req/s"), "x": (1.0, "× budget")}.get(unit, (1.0, ""))  # fmt: skip


class Prometheus:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30.0)

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        params = {"query": expr, "start": start, "end": end, "step": step}
        body = self.client.get("/api/v1/query_range", params=params).json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        body = self.client.get("/api/v1/query", params={"query": expr, "time": at}).json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


def draw_timeseries(
    ax: Any, panel: dict[str, Any], prom: Prometheus, window: dict[str, Any]
) -> None:
    factor, label = scale(panel["fieldConfig"]["defaults"].get("unit", ""))
    start, end, step = window["start"], window["end"], window["step"]
    for target in panel["targets"]:
        expr = fill(target["expr"], rate=window["rate"], range_=window["range"])
        found = prom.range(expr, start, end, step)
        found.sort(key=lambda f: -sum(abs(float(v)) for _, v in f["values"] if v[0] not in "N+-"))
        for series in found[:8]:  # the largest, as a legend can hold
            points = [(float(t) - end, float(v) * factor) for t, v in series["values"]
                      if v not in ("NaN", "+Inf", "-Inf")]  # fmt: skip
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot([x / 60 for x in xs], ys, linewidth=1.2,
                        label=legend(target["legendFormat"], series["metric"])[:48])  # fmt: skip
    ax.set_xlabel("minutes", fontsize=7)
    ax.set_ylabel(label, fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=6, loc="upper left", frameon=False)


def draw_stat(ax: Any, panel: dict[str, Any], prom: Prometheus, window: dict[str, Any]) -> None:
    factor, label = scale(panel["fieldConfig"]["defaults"].get("unit", ""))
    lines = []
    for target in panel["targets"]:
        for series in prom.instant(fill(target["expr"], rate=window["rate"],
                                        range_=window["range"]), window["end"]):  # fmt: skip
            value = float(series["value"][1]) * factor
            lines.append(
                f"{value:,.1f} {label}   {legend(target['legendFormat'], series['metric'])}"
            )
    ax.axis("off")
    ax.text(0.02, 0.85, "\n".join(lines) or "no data", va="top", fontsize=10, family="monospace")


def draw_table(ax: Any, panel: dict[str, Any], prom: Prometheus, window: dict[str, Any]) -> None:
    keys = ("location", "endpoint", "cause")
    rows: dict[tuple[str, ...], list[str]] = {}
    for n, target in enumerate(panel["targets"]):
        expr = fill(target["expr"], rate=window["rate"], range_=window["range"])
        for series in prom.instant(expr, window["end"]):
            key = tuple(series["metric"].get(k, "") for k in keys)
            rows.setdefault(key, ["", ""])[n] = f"{float(series['value'][1]):,.2f}"
    ordered = sorted(rows.items(), key=lambda kv: -float(kv[1][0].replace(",", "") or 0))[:6]
    ax.axis("off")
    if not ordered:
        ax.text(0.02, 0.8, "no data", fontsize=9)
        return
    table = ax.table(
        cellText=[[*k, *v] for k, v in ordered],
        colLabels=[*keys, "blocked (s)", "stalls"],
        loc="upper left", cellLoc="left", colWidths=[0.5, 0.2, 0.08, 0.11, 0.11],
    )  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(7)


def render(prom: Prometheus, *, minutes: float, out: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    end = time.time()
    window = {"start": end - minutes * 60, "end": end, "step": max(5.0, minutes * 60 / 150),
              "rate": "1m", "range": f"{int(minutes * 60)}s"}  # fmt: skip
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    fig = Figure(figsize=(24 * UNIT, height * ROW_H + 0.6))
    fig.suptitle(f"{dashboard['title']} (last {minutes:g} min; rendered from Prometheus by "
                 "deploy/grafana/render.py)", fontsize=11)  # fmt: skip
    top = 1 - 0.6 / (height * ROW_H + 0.6)
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        x, w = g["x"] / 24, g["w"] / 24
        y0 = top * (1 - (g["y"] + g["h"]) / height)
        h = top * g["h"] / height
        if panel["type"] == "row":
            fig.text(0.01, y0 + h / 2, panel["title"], fontsize=10, weight="bold", va="center")
            continue
        ax = fig.add_axes((x + 0.035 * w + 0.004, y0 + 0.22 * h, w * 0.93, h * 0.62))
        ax.set_title(panel["title"], fontsize=8, loc="left")
        {"timeseries": draw_timeseries, "stat": draw_stat, "table": draw_table}[panel["type"]](
            ax, panel, prom, window
        )
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=Path("dashboard.png"))
    args = parser.parse_args()
    render(Prometheus(args.prometheus), minutes=args.minutes, out=args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
