"""The harness's side of bounded profiling: when to profile, and asking the workers to.

The window is centred in the load (away from ramp-up and drain) so that it falls in
the steady window; the workers (lagscope.harness.probe.profiler) do the profiling.
"""

from __future__ import annotations

import time
from pathlib import Path

from lagscope import rundir, runfiles
from lagscope.errors import UsageError

MIN_OUTSIDE_S = 2.0  # steady load left outside the window, to measure the overhead against


def check_profile(profile_s: float, *, duration_s: float) -> None:
    """Refuse a window that leaves too little unprofiled load to compare with."""
    if profile_s < 0:
        raise UsageError(f"--profile must be positive (got {profile_s:g}s)")
    if profile_s and profile_s > duration_s - MIN_OUTSIDE_S:
        raise UsageError(
            f"--profile {profile_s:g}s leaves under {MIN_OUTSIDE_S:g}s of unprofiled load in a "
            f"{duration_s:g}s run; use a shorter --profile or a longer --duration"
        )


def window_start(load_started: float, *, duration_s: float, profile_s: float) -> float:
    """Unix time at which the profile window opens: centred in the load."""
    return load_started + max((duration_s - profile_s) / 2.0, 0.0)


def request_profile(run_dir: Path, *, duration_s: float, profile_s: float) -> None:
    """Write ``profile-request.json``; every worker polls for it."""
    start = window_start(time.time(), duration_s=duration_s, profile_s=profile_s)
    runfiles.write_json(run_dir / rundir.PROFILE_REQUEST, {"start": start, "seconds": profile_s})
    runfiles.log_event(run_dir, "profile_requested", start=start, seconds=profile_s)
