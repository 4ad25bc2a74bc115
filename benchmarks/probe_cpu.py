"""The probe's own CPU cost, measured directly: an idle event loop with and without it.

Under load the probe's cost hides in the noise of a shared machine; on an idle loop
the process's CPU time is almost all the probe's (heartbeat every 10 ms + watchdog
waking when a beat would be overdue, at most every 10 ms), which bounds what it can
take from a busy server.

    .venv/bin/python benchmarks/probe_cpu.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from collections.abc import Callable

import uvloop
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.probe.heartbeat import Heartbeat
from lagscope.harness.probe.recorder import Recorder
from lagscope.harness.probe.watchdog import Watchdog


def cpu_seconds(
    seconds: float, *, probe: bool, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None
) -> float:
    async def main() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.process_time()
            if probe:
                heartbeat = Heartbeat(interval_s=0.010)
                heartbeat.start()
                watchdog = Watchdog(
                    heartbeat, Recorder(tmp, pid=1), loop_thread_id=threading.get_ident(),
                    loop_native_id=threading.get_native_id(), threshold_s=0.020, sample_s=0.002,
                    frame_filter=FrameFilter.for_root(tmp), endpoints=dict,
                )  # fmt: skip
                watchdog.start()
            await asyncio.sleep(seconds)
            if probe:
                watchdog.stop()
                heartbeat.stop()
            return time.process_time() - start

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    for name, factory in (("asyncio", None), ("uvloop", uvloop.new_event_loop)):
        bare = cpu_seconds(args.seconds, probe=False, loop_factory=factory)
        probed = cpu_seconds(args.seconds, probe=True, loop_factory=factory)
        per_s = (probed - bare) / args.seconds * 1000
        print(f"{name}: probe costs {per_s:.2f} ms of CPU per second "
              f"({per_s / 10:.2f}% of one core)")  # fmt: skip


if __name__ == "__main__":
    main()
