"""The bounded profile: a worker profiles exactly the window the harness asks for."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from lagscope.harness.probe.profiler import profile_when_asked, read_request
from lagscope.harness.run.profiling import check_profile, window_start

from lagscope.errors import UsageError
from lagscope.rundir import PROFILE_REQUEST as REQUEST_FILE


def test_the_window_is_centred_in_the_load() -> None:
    assert window_start(100.0, duration_s=30.0, profile_s=10.0) == 110.0


@pytest.mark.parametrize(("profile_s", "duration_s"), [(9.0, 10.0), (-1.0, 10.0)])
def test_a_window_leaving_too_little_unprofiled_load_is_refused(
    profile_s: float, duration_s: float
) -> None:
    with pytest.raises(UsageError, match="--profile"):
        check_profile(profile_s, duration_s=duration_s)


def test_no_request_file_means_no_request(tmp_path: Path) -> None:
    assert read_request(tmp_path) is None
    (tmp_path / REQUEST_FILE).write_text("{not json")
    assert read_request(tmp_path) is None


def _busy_loop_work(until: float) -> None:
    while time.time() < until:
        sum(range(1000))


def test_the_worker_profiles_the_requested_window_and_records_it(tmp_path: Path) -> None:
    start = time.time() + 0.3
    (tmp_path / REQUEST_FILE).write_text(json.dumps({"start": start, "seconds": 0.4}))

    async def main() -> None:
        task = asyncio.create_task(profile_when_asked(tmp_path, pid=123))
        while not task.done():
            _busy_loop_work(time.time() + 0.02)  # the loop's own work, seen by the profiler
            await asyncio.sleep(0)
        await task

    asyncio.run(main())
    (event,) = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert event["event"] == "profile_window"
    assert event["pid"] == 123
    assert event["start"] >= start - 0.01
    assert event["end"] - event["start"] >= 0.4
    assert "_busy_loop_work" in (tmp_path / event["html"]).read_text()
    speedscope = json.loads((tmp_path / event["speedscope"]).read_text())
    assert any(f["name"] == "_busy_loop_work" for f in speedscope["shared"]["frames"])
