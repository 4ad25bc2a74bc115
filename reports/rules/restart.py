"""``worker_restarted``: a server worker died during the window, and whether one replaced it.

A worker that stops beating while the others go on was terminated (a crash, the OOM
killer, a signal); uvicorn and gunicorn start a replacement, which announces itself when
its probe starts.  Requests that were in flight on the dead worker fail, and the
replacement serves cold.
"""

from __future__ import annotations

import math

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.wording import plural

SILENT_S = 2.0  # a worker quiet this long before the window ends (while others beat) died
REMEDY = (
    "Find why the worker died: its last lines in logs/target.log (an exception at start-up, "
    "a segfault in a C extension), or the OOM killer (dmesg; RSS in the resources section). "
    "Keep more than one worker so a death costs only the requests in flight, and make "
    "clients retry idempotent requests."
)


def worker_restarted(fig: Figures) -> list[Finding]:
    lives = fig.processes.get("workers", [])
    start, end = fig.processes.get("start"), fig.processes.get("end")
    if not lives or start is None or end is None:
        return []
    latest = max((w["last_beat"] for w in lives if not math.isnan(w["last_beat"])), default=end)
    findings: list[Finding] = []
    for dead in lives:
        died = dead["last_beat"]
        if math.isnan(died) or not start <= died <= min(end, latest) - SILENT_S:
            continue  # no beat at all, or outside the window, or still beating at its end
        after = [w for w in lives if w["started"] > died]
        failures = int(fig.requests.get("aggregate", {}).get("failures", 0))
        if after:
            new = after[0]
            said = f"worker {new['pid']} started {new['started'] - died:.1f} s later"
            summary = f"Worker {dead['pid']} died at {died - start:.1f} s; the server replaced it."
        else:
            said = "no worker replaced it"
            summary = f"Worker {dead['pid']} died at {died - start:.1f} s and was not replaced."
        findings.append(
            {
                "kind": "worker_restarted",
                "severity": "critical" if not after else "warning",
                "summary": summary,
                "evidence": (
                    f"its last heartbeat at {died - start:.1f} s of the window while the others "
                    f"went on; {said}; {plural(failures, 'failed request')} in the window."
                ),
                "location": f"worker {dead['pid']}",
                "remedy": REMEDY,
            }
        )
    return findings
