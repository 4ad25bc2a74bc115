"""What the CLI says on stderr about the run's environment: the wait for the servers to
start, a run the machine cut short (exit code 3), a report that could not be written.

Each notice is one line: what happened, what was kept, what to do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lagscope.errors import TargetStartError

if TYPE_CHECKING:
    from lagscope.reports.summary_types import Summary

CUT_SHORT_EXIT = 3  # the machine cut the run short: a full disk, a failed write, a dead load
PROGRESS_AFTER_S = 5.0  # a start-up quicker than this says nothing
PROGRESS_EVERY_S = 10.0  # between lines when stderr is not a terminal


class StartupProgress:
    """Prints how long the servers have been starting: one updated line on a terminal, a
    line every PROGRESS_EVERY_S otherwise (logs, CI)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_line = -PROGRESS_EVERY_S
        self._open = False  # a terminal line not ended yet

    def __call__(self, what: str, waited_s: float, timeout_s: float) -> None:
        if waited_s < PROGRESS_AFTER_S:
            return
        text = (
            f"lagscope: waiting for {what} to start: {waited_s:.0f} s of at most "
            f"{timeout_s:g} s (--startup-timeout)"
        )
        if self.tty:
            self.stream.write(f"\r{text}")
            self._open = True
        elif waited_s - self._last_line >= PROGRESS_EVERY_S:
            self._last_line = waited_s
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        """End the terminal's updated line, if one was written."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def print_start_error(exc: TargetStartError, stream: TextIO | None = None) -> None:
    """The one-line error, then the last lines of the server's log, indented."""
    out = stream or sys.stderr
    out.write(f"lagscope: error: {exc}\n")
    for line in exc.log_tail:
        out.write(f"  | {line}\n")


def cut_short_line(summary: Summary) -> str | None:
    """One line when the machine cut the run short (exit code 3), else None."""
    from lagscope.reports.environment import cut_short

    env = summary["environment"]
    if not cut_short(env):
        return None
    run = summary["run"]
    kept = summary["requests"]["aggregate"]["count"] + summary["window"]["requests_outside"]
    report = f"{run['dir']}/report.html"
    load = f"the {run['duration_s']:g} s load" if run["duration_s"] else "the load"
    stop = env["stopped"]
    if stop:
        after = f" {stop['after_s']:g} s into {load}" if stop["after_s"] is not None else ""
        fix = (
            "free space there, or choose another --out, and run again"
            if stop["reason"] == "disk_full"
            else "make the run directory writable, or choose another --out, and run again"
        )
        return (
            f"lagscope: the run stopped{after}: {stop['detail']}; kept: {kept:,} requests and "
            f"the report of what was collected ({report}); {fix}"
        )
    deaths = env["load_deaths"]
    first = deaths[0]
    if first["role"] == "locust":
        who, rest = f"the load generator (Locust, pid {first['pid']})", "the run ended there"
    else:
        who = f"load-generator process {first['pid']} (a Locust worker)"
        rest = "the other processes ran on"
    after = f" {first['after_s']:g} s into {load}" if first["after_s"] is not None else ""
    more = f" (and {len(deaths) - 1} more)" if len(deaths) > 1 else ""
    return (
        f"lagscope: {who} {first['how']}{after}{more}; kept: its {first['requests']:,} requests "
        f"until then, {rest}, and the report ({report}); see {run['dir']}/logs/locust.log "
        "and run again for the full load"
    )


def report_failed_line(run_dir: Path, error: Exception) -> str:
    """One line when the run's report could not be written (a full disk, most often)."""
    from lagscope import request_spool  # pyarrow: imported only when a run is asked for

    rows = request_spool.spooled_rows(run_dir)
    return (
        f"lagscope: the run ended but its report could not be written: {error}; kept: {rows:,} "
        f"requests in {run_dir} (requests.parquet and spool/, readable); free space there, "
        f"then run: lagscope report {run_dir}"
    )
