"""``lagscope run --metrics``: the target answers scrapes while the load runs, in
multiprocess mode over its workers, and the run keeps the last scrape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lagscope import metric_names as names
from lagscope import rundir
from tests.e2e.runs import lagscope_run

pytestmark = pytest.mark.e2e


def test_a_run_with_metrics_keeps_the_targets_last_scrape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    lagscope_run(out, "--app", "shop", "--fault", "blocking_io", "--workers", "2",
                 "--duration", "4s", "--metrics")  # fmt: skip
    assert "/metrics while the load runs" in capsys.readouterr().err
    events = [json.loads(line) for line in (out / rundir.EVENTS).read_text().splitlines()]
    assert any(e["event"] == "metrics_ready" for e in events)
    text = (out / rundir.METRICS_SCRAPE).read_text(encoding="utf-8")
    found = [s for f in text_string_to_metric_families(text) for s in f.samples]
    workers = {s.labels[names.WORKER] for s in found if s.name == names.RSS}
    assert len(workers) == 2
    stalls = [s for s in found if s.name == names.LOOP_STALLS
              and s.labels[names.LOCATION].endswith("blocking_io.py:31")]  # fmt: skip
    assert stalls
    assert sum(s.value for s in stalls) > 0
    # The same stalls are in the run directory, as without --metrics.
    assert list(out.glob(f"{rundir.WORKERS}/*/{rundir.STALLS}"))
