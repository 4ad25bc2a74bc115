"""A real Prometheus scrapes a two-worker shop every second while blocking_io blocks its loops.

Asked through Prometheus' HTTP API: the loop-lag P99 is over the stall threshold, the
stall counter names the seeded line, and the generated fast-burn alert (windows scaled
60x: 1 m and 5 s) reaches ``firing``.  Under uvicorn ``--workers 2`` and gunicorn.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.prometheus.stack import (
    Prometheus,
    ShopLoad,
    prometheus_binary,
    stack,
    start_downstream,
    start_shop,
    wait_until,
)

pytestmark = pytest.mark.e2e
SLO = "p99<25ms"  # the blocked loop makes most requests slower: the budget burns fast
ALERT = "SloLatencyP99FastBurn"
STALLS_AT_THE_SEEDED_LINE = (
    "sum by (location, endpoint, cause) "
    '(lagscope_loop_stalls_total{location=~".*/blocking_io.py:31"})'
)


def generate_rules(path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "lagscope", "slo", "rules", "--slo", SLO, "--time-scale", "60",
         "--out", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_prometheus_sees_the_blocked_loop_the_line_and_the_burn(
    tmp_path: Path, server: str
) -> None:
    prometheus_binary()
    rules = generate_rules(tmp_path / "slo.yml")
    with stack(tmp_path) as s:
        downstream = start_downstream(s)
        url, _ = start_shop(s, server=server, workers=2, downstream=downstream,
                            faults="blocking_io")  # fmt: skip
        prom = Prometheus(s, targets=[url], rule_files=[rules])
        with ShopLoad(url, max_s=90):
            workers = wait_until(
                lambda: prom.query("count(count by (worker) (lagscope_loop_lag_seconds_count))"),
                timeout_s=30, what="both workers' lag in Prometheus",
            )  # fmt: skip
            assert workers[0]["value"][1] == "2"
            lag = wait_until(
                lambda: prom.query(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(lagscope_loop_lag_seconds_bucket[30s]))) > 0.02"
                ),
                timeout_s=40, what="loop-lag P99 over the 20 ms stall threshold",
            )  # fmt: skip
            stalls = wait_until(
                lambda: prom.query(STALLS_AT_THE_SEEDED_LINE),
                timeout_s=30, what="stalls blamed on blocking_io.py:31",
            )  # fmt: skip
            firing = wait_until(
                lambda: [a for a in prom.alerts()
                         if a["labels"]["alertname"] == ALERT and a["state"] == "firing"],
                timeout_s=60, what=f"{ALERT} firing",
            )  # fmt: skip
            # Read again, seconds of stalls later: the first call in a worker can stall on
            # its imports (CPU), so one early series may carry cause="cpu".
            stalls = prom.query(STALLS_AT_THE_SEEDED_LINE)
        assert float(lag[0]["value"][1]) > 0.02
        for series in stalls:
            assert series["metric"]["location"].endswith("shop/faults/blocking_io.py:31")
            assert series["metric"]["endpoint"] == "POST /orders"
        by_cause = {s["metric"]["cause"]: float(s["value"][1]) for s in stalls}
        # urlopen waits on the downstream's 50 ms: most of its stalls are a wait.
        assert by_cause.get("wait", 0.0) > sum(by_cause.values()) / 2, by_cause
        assert firing[0]["labels"]["slo"] == "latency_p99"
        assert all(health == "ok" for _, health in prom.rule_health())
