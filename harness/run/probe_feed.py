"""The probe's data from a target lagscope did not start (``--target URL --probe-token T``).

A thread polls ``POST /_lagscope/probe`` (harness.probe.feed) on fresh connections, so
that every worker behind the port answers in turn, and appends what each returns to
``workers/<pid>/`` of the run directory: the same files a local run's workers write, so
the reports read them alike.  meta.json gains ``host`` and the clock offset measured
from the answer (worker's clock minus ours, ± half the round trip).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from lagscope import rundir, runfiles

POLL_S = 0.25
DRAIN_S = 5.0  # after the load: how long to wait for every worker's last lines


class ProbeCollector:
    """Collects the probe's files of every worker behind ``url`` into ``run_dir``."""

    def __init__(self, url: str, token: str, run_dir: Path, *, poll_s: float = POLL_S) -> None:
        self.url = url + rundir.PROBE_PATH
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        self.dir = run_dir
        self.poll_s = poll_s
        self.offsets: dict[str, dict[str, int]] = {}  # pid -> file -> bytes collected
        self.hosts: dict[str, str] = {}
        self.errors = 0
        self.refused: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lagscope-probe-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling after a last round that reaches every worker seen (or DRAIN_S)."""
        self._stop.set()
        self._thread.join(timeout=DRAIN_S + 5.0)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while not self._stop.wait(self.poll_s):
                self._poll(http)
                if self.refused is not None:
                    return
            drained: set[str] = set()
            deadline = time.monotonic() + DRAIN_S
            while time.monotonic() < deadline and (not self.hosts or drained != set(self.hosts)):
                answer = self._poll(http)
                if answer is not None and not any(f["data"] for f in answer["files"].values()):
                    drained.add(str(answer["pid"]))
        runfiles.log_event(self.dir, "probe_feed_stopped", workers=sorted(self.hosts),
                           errors=self.errors, refused=self.refused)  # fmt: skip

    def _poll(self, http: httpx.Client) -> dict[str, Any] | None:
        sent = time.time()
        try:
            response = http.post(self.url, headers=self.headers, json={"offsets": self.offsets})
        except httpx.HTTPError:
            self.errors += 1  # a worker stalled or restarting: the next poll tries again
            return None
        received = time.time()
        if response.status_code in (401, 403, 404):
            self.refused = f"{response.status_code} from {self.url}"
            runfiles.log_event(self.dir, "probe_feed_refused", status=response.status_code)
            return None
        if response.status_code != 200:
            self.errors += 1
            return None
        answer: dict[str, Any] = response.json()
        self._store(answer, sent=sent, received=received)
        return answer

    def _store(self, answer: dict[str, Any], *, sent: float, received: float) -> None:
        pid = str(answer["pid"])
        folder = self.dir / rundir.WORKERS / pid
        folder.mkdir(parents=True, exist_ok=True)
        if pid not in self.hosts:
            self.hosts[pid] = str(answer["host"])
            runfiles.log_event(self.dir, "probe_worker_seen", host=answer["host"], pid=int(pid))
        if answer.get("meta") is not None:
            meta = dict(answer["meta"])
            meta.update(host=answer["host"], source=self.url,
                        clock_offset_s=answer["time"] - (sent + received) / 2,
                        clock_uncertainty_s=(received - sent) / 2)  # fmt: skip
            runfiles.write_json(folder / rundir.META, meta)
        if answer.get("exceptions") is not None:  # rewritten whole by the probe: sent whole
            runfiles.write_json(folder / rundir.EXCEPTIONS, answer["exceptions"])
        offsets = self.offsets.setdefault(pid, {})
        for name, chunk in answer["files"].items():
            if not chunk["data"] or int(chunk["offset"]) != offsets.get(name, 0):
                continue  # an answer to an older offset: already stored
            with open(folder / name, "a", encoding="utf-8") as f:
                f.write(chunk["data"])
            offsets[name] = offsets.get(name, 0) + len(chunk["data"].encode("utf-8"))
