"""Free space is a resource: what a run will write, checked before it starts, watched as it runs.

Before the run, ``estimate`` sizes what it writes (requests × bytes per request, stalls,
heartbeats, gauges, resources, the report) and ``check_room`` refuses a filesystem that
cannot hold it with a margin.  While the load runs, ``SpaceWatch`` compares the free space
with what finishing the run still needs (merging the spooled requests, writing the
report); below that floor the harness stops the load, and the run ends with what it has.
The report's room is held from the start in ``.reserve`` and released as the run ends, so
the report is written even when something else filled the disk.

Bytes per record were measured with ``benchmarks/run_dir_bytes.py`` (shop, 2 shared cores)
and rounded up.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lagscope.harness.run.config import RunConfig

from lagscope import defaults, runfiles
from lagscope.errors import RunDirError

# Measured (benchmarks/run_dir_bytes.py), rounded up.
REQUEST_BYTES = 60  # a row of requests.parquet (18 B measured, 43 B in rate mode)
SPOOL_PART_BYTES = 5_000  # a spool part's own cost (footer, schema; 3.6 KB): one a second
STALL_BYTES = 12_000  # a line of stalls.jsonl (merged stacks: 5-11 KB measured)
HEARTBEAT_BYTES = 25  # a line of lag.csv (24 B)
GAUGE_ROW_BYTES = 250  # a line of gauges.csv (145-230 B), one per GAUGE_INTERVAL_MS
RESOURCE_ROW_BYTES = 70  # a line of resources.csv (62 B): one per process per second
LOG_BYTES_PER_S = 1_000  # the servers' and Locust's logs, the events
REPORT_BYTES = 1_000_000  # report.html, charts/*.png, summary.json, report.md (0.5 MB measured)
REPORT_BYTES_PER_S = 2_000  # the charts grow with the run's length

# Assumptions of the estimate: a busy run, not the worst one (the watch catches the rest).
CLOSED_RPS_PER_PROC = 1_000  # requests/s a Locust process sends at most, closed model
STALLS_PER_S = 5.0  # per worker: a run with a blocking fault (the demo's had 12)
PROCESSES_BESIDE_WORKERS = 4  # sampled besides the workers: server master, Locust, downstream

MARGIN = 1.5  # the filesystem must hold the estimate this many times over
FINISH_SLACK_BYTES = 1_000_000  # written while the processes stop (last lags, logs, events)
WATCH_EVERY_S = 1.0


@dataclass(frozen=True)
class Estimate:
    """What a run is expected to write, by item, in bytes."""

    requests: int  # expected requests
    items: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.items.values())


def expected_requests(config: RunConfig) -> int:
    """Requests the run sends: its plan in rate mode, else what its Locust processes can send."""
    if config.rate is not None:
        mean_rate = (config.rate.start + config.rate.end) / 2
        return math.ceil(mean_rate * config.duration_s)
    return math.ceil(CLOSED_RPS_PER_PROC * config.load_procs * config.duration_s)


def estimate(config: RunConfig) -> Estimate:
    """The bytes a run of ``config`` writes at its largest (while the spool is merged)."""
    seconds = config.duration_s
    workers = config.workers if config.probe else 0
    requests = expected_requests(config)
    parts = math.ceil(seconds) * config.load_procs  # one spool part a second per process
    processes = config.workers + PROCESSES_BESIDE_WORKERS
    items = {
        "requests": requests * REQUEST_BYTES,
        "spool": requests * REQUEST_BYTES + parts * SPOOL_PART_BYTES,
        "stalls": math.ceil(workers * seconds * STALLS_PER_S * STALL_BYTES),
        "heartbeats": math.ceil(workers * seconds * 1000 / config.interval_ms * HEARTBEAT_BYTES),
        "gauges": math.ceil(
            workers * seconds * 1000 / defaults.GAUGE_INTERVAL_MS * GAUGE_ROW_BYTES
        ),
        "resources": math.ceil(processes * seconds * RESOURCE_ROW_BYTES),
        "logs": math.ceil(seconds * LOG_BYTES_PER_S),
        "report": report_bytes(seconds),
    }
    return Estimate(requests=requests, items=items)


def report_bytes(duration_s: float) -> int:
    return REPORT_BYTES + math.ceil(REPORT_BYTES_PER_S * duration_s)


def floor_bytes(spooled: int) -> int:
    """Free space under which the load is stopped: the merge of ``spooled`` bytes of request
    parts (at most as much again) and what the processes write as they stop.  The report's
    room is held apart from the start (``.reserve``, ``report_bytes``)."""
    return spooled + FINISH_SLACK_BYTES


def nearest_existing(path: Path) -> Path:
    path = path.absolute()
    return next((p for p in (path, *path.parents) if p.exists()), Path(path.anchor))


def size(n: float) -> str:
    """Bytes for people: 850 KB, 12.5 MB, 3.2 GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def check_room(
    config: RunConfig, *, disk_usage: Callable[[Path], int] | None = None, flag: str = "--out"
) -> Estimate:
    """Raise RunDirError when the filesystem of ``config.out`` cannot hold the run's
    estimate ``MARGIN`` times over; return the estimate."""
    free_of = disk_usage or free_bytes
    where = nearest_existing(config.out)
    est = estimate(config)
    need = math.ceil(est.total * MARGIN) + FINISH_SLACK_BYTES
    try:
        free = free_of(where)
    except OSError:  # no statfs here (an odd filesystem): the watch and the writes will tell
        return est
    if free < need:
        raise RunDirError(
            f"the run needs about {size(need)} in {where} (~{est.requests:,} requests, stalls, "
            f"heartbeats, gauges and the report, {MARGIN:g}× over) but its filesystem has "
            f"{size(free)} free; free space there, shorten --duration, or choose an {flag} on a "
            "filesystem with more room"
        )
    return est


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer can still use on ``path``'s filesystem."""
    return shutil.disk_usage(path).free


@dataclass(frozen=True)
class Low:
    """Free space fell under the floor: what was free, what finishing needs."""

    free: int
    floor: int
    path: Path

    def words(self) -> str:
        return (
            f"free space on {self.path} fell to {size(self.free)}, under the {size(self.floor)} "
            "the run needs to finish"
        )


class SpaceWatch:
    """Checks free space under the run directory about once a second while the load runs."""

    def __init__(
        self,
        run_dir: Path,
        *,
        disk_usage: Callable[[Path], int] = free_bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_dir = run_dir
        self._free = disk_usage
        self._clock = clock
        self._next = clock()

    def low(self) -> Low | None:
        """A ``Low`` when free space is under what finishing the run needs, else None."""
        now = self._clock()
        if now < self._next:
            return None
        self._next = now + WATCH_EVERY_S
        try:
            free = self._free(self.run_dir)
        except OSError:  # the directory went away: the writes will say so
            return None
        floor = floor_bytes(runfiles.spool_bytes(self.run_dir))
        return Low(free=free, floor=floor, path=self.run_dir) if free < floor else None
