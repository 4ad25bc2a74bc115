"""Free space as a resource: the estimate before a run, the floor while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from lagscope.harness.run import diskspace
from lagscope.harness.run.config import RunConfig

from lagscope import rundir
from lagscope.arrivals import Rate
from lagscope.errors import RunDirError


def config(tmp_path: Path, **options: object) -> RunConfig:
    base: dict[str, object] = {
        "app": "shop", "app_import": "x:app", "scenario": "shop",
        "scenario_file": tmp_path / "s.py", "users": 20, "spawn_rate": 20.0,
        "duration_s": 30.0, "out": tmp_path / "run",
    }  # fmt: skip
    return RunConfig(**{**base, **options})  # type: ignore[arg-type]


def test_the_estimate_counts_the_plan_in_rate_mode(tmp_path: Path) -> None:
    est = diskspace.estimate(config(tmp_path, rate=Rate(100, 300), users=None, duration_s=10))
    assert est.requests == 2000  # a ramp from 100 to 300 req/s averages 200
    assert est.items["requests"] == 2000 * diskspace.REQUEST_BYTES
    assert est.total == sum(est.items.values())


def test_the_estimate_grows_with_duration_workers_and_load_processes(tmp_path: Path) -> None:
    short = diskspace.estimate(config(tmp_path, duration_s=10)).total
    assert diskspace.estimate(config(tmp_path, duration_s=60)).total > 5 * short / 2
    assert diskspace.estimate(config(tmp_path, workers=4)).items["stalls"] == (
        4 * diskspace.estimate(config(tmp_path)).items["stalls"]
    )
    assert diskspace.estimate(config(tmp_path, load_procs=2)).requests == (
        2 * diskspace.estimate(config(tmp_path)).requests
    )
    assert diskspace.estimate(config(tmp_path, probe=False)).items["stalls"] == 0


def test_a_filesystem_too_small_is_refused_in_one_line(tmp_path: Path) -> None:
    run = config(tmp_path, duration_s=10)
    need = diskspace.estimate(run).total * diskspace.MARGIN + diskspace.FINISH_SLACK_BYTES
    with pytest.raises(RunDirError) as caught:
        diskspace.check_room(run, disk_usage=lambda _: 200_000)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"the run needs about {diskspace.size(need)} in {tmp_path} ")
    assert "but its filesystem has 200 KB free; free space there, shorten --duration" in message
    assert diskspace.check_room(run, disk_usage=lambda _: int(need) + 1).total > 0


def test_sizes_read_in_powers_of_1000() -> None:
    assert [diskspace.size(n) for n in (512, 2048, 2_500_000, 3.2e9)] == [
        "512 B", "2.05 KB", "2.5 MB", "3.2 GB",
    ]  # fmt: skip


def test_the_watch_stops_the_run_below_the_spool_and_its_slack(tmp_path: Path) -> None:
    spool = tmp_path / rundir.SPOOL
    spool.mkdir()
    (spool / rundir.request_part(1, 1)).write_bytes(b"x" * 300_000)
    now = [0.0]
    free = [5_000_000]
    watch = diskspace.SpaceWatch(tmp_path, disk_usage=lambda _: free[0], clock=lambda: now[0])
    assert watch.low() is None
    free[0] = 1_250_000  # under 300 kB of spool + 1 MB of slack
    assert watch.low() is None  # read once a second, not more
    now[0] = 1.0
    low = watch.low()
    assert low is not None
    assert (low.free, low.floor) == (1_250_000, 300_000 + diskspace.FINISH_SLACK_BYTES)
    assert low.words() == (
        f"free space on {tmp_path} fell to 1.25 MB, under the 1.3 MB the run needs to finish"
    )
