"""A step on a shared target runs with the configuration `lagscope run` gives a step that
starts its own servers (the flags of ``--restart-each-step``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.harness.cli.main import build_parser, config_from_args
from lagscope.harness.run.sweep import step_argv
from lagscope.harness.run.sweep_plan import Point, SweepPlan, step_config
from lagscope.reports.rate_search import SearchLimits


@pytest.mark.parametrize(
    ("faults", "threadpool"),
    [((), None), ((), 80), (("threadpool_starvation",), None), (("unbounded_tasks",), 10)],
)
def test_a_step_s_config_is_what_lagscope_run_makes_of_its_flags(
    tmp_path: Path, faults: tuple[str, ...], threadpool: int | None
) -> None:
    point = Point(server="gunicorn", loop="asyncio", threadpool=threadpool, workers=2)
    plan = SweepPlan(app="shop", scenario=None, points=(point,), limits=SearchLimits(),
                     step_s=4.0, load_procs=2, faults=faults, seed=7)  # fmt: skip
    out = tmp_path / "step"
    argv = step_argv(plan, point, 120.0, out)[3:]  # after "python -m lagscope"
    from_flags = config_from_args(build_parser().parse_args(argv))
    assert step_config(plan, point, rate=120.0, out=out).to_json() == from_flags.to_json()
