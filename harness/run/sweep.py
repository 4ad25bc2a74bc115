"""``lagscope sweep``: for each server configuration, the highest rate it sustains under the SLO.

Every step is a normal run (its own run directory, re-renderable with ``lagscope
report``), driven in the open model (``--rate``).  The steps of one configuration load
the same target while it stays healthy (``sweep_target``): each is a run in this process
that borrows the servers (``orchestrator.run(lease=...)``) and writes ``summary.json`` and
``report.md``; the report pages and charts are rendered later (``lagscope report``, and
the sweep's end for each configuration's best step).  With ``--restart-each-step`` every
step is a ``lagscope run`` child process that starts and stops its own servers.
``sweep.json`` is rewritten after every step, so an interrupted sweep keeps its finished
points and ``lagscope sweep --resume DIR`` continues by replaying the recorded steps.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lagscope.harness.run import orchestrator
from lagscope.harness.run.diskspace import check_room
from lagscope.harness.run.lease import Lease
from lagscope.harness.run.orchestrator import host_facts
from lagscope.harness.run.sweep_plan import Point, SweepPlan, step_config
from lagscope.harness.run.sweep_target import PointTarget
from lagscope.reports.build import build_summary
from lagscope.reports.rate_search import Step, next_step
from lagscope.reports.slo_spec import parse_slos

from lagscope import rundir, runfiles
from lagscope.errors import TargetStartError, UsageError

# A load generator above this CPU (per process, % of one core) may be the limit itself.
GENERATOR_CPU_LIMIT = 90.0
# Sends later than this at the 99th percentile mean the generator could not keep the plan.
SEND_LAG_LIMIT_MS = 20.0
# ... and only when that lateness is a large part of the latency the verdict rests on,
LATE_SHARE_OF_P99 = 0.5
# ... and more than a hiccup: the P99 of a 2 s step at 60 req/s is its 2nd-latest send,
# so one 45 ms pause of the generator would otherwise end the configuration's search.
MIN_LATE_SENDS = 3


def step_argv(plan: SweepPlan, point: Point, rate: float, out: Path) -> list[str]:
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", plan.app, "--rate", f"{rate:g}",
        "--duration", f"{plan.step_s:g}s", "--workers", str(point.workers),
        "--server", point.server, "--loop", point.loop, "--load-procs", str(plan.load_procs),
        "--seed", str(plan.seed), "--out", str(out),
    ]  # fmt: skip
    if plan.scenario:
        argv += ["--scenario", plan.scenario]
    if point.threadpool is not None:
        argv += ["--threadpool", str(point.threadpool)]
    for fault in plan.faults:
        argv += ["--fault", fault]
    for slo in plan.slos:
        argv += ["--slo", slo]
    return argv


def judge(summary: dict[str, Any], *, load_procs: int) -> dict[str, Any]:
    """What one step showed: passed the SLO?, valid?, and the figures at that rate."""
    agg = summary["requests"]["aggregate"]
    resources = summary.get("resources", {})
    target = resources.get("target", {})
    generator = resources.get("load_generator", {})
    sender = summary.get("open_model") or {}
    generator_cpu = generator.get("cpu_pct_max", 0.0) / max(load_procs, 1)
    send_lag = sender.get("send_lag_p99_ms")
    p99 = agg.get("p99_ms") or 0.0
    reason = None
    if generator_cpu >= GENERATOR_CPU_LIMIT:
        reason = f"load generator saturated ({generator_cpu:.0f}% CPU per process)"
    elif (
        send_lag is not None
        and send_lag > SEND_LAG_LIMIT_MS
        and send_lag > LATE_SHARE_OF_P99 * p99
        and sender.get("late_sends", 0) >= MIN_LATE_SENDS
        and not sender.get("cap_reached")
    ):
        # Late sends count in the corrected latency; when they make up much of it, the
        # verdict is the generator's, not the target's.
        reason = f"load generator sent late (p99 {send_lag:.1f} ms behind the plan)"
    count = agg.get("count") or 0
    slo = summary.get("slo") or {}  # null when the run had no SLO to check
    checks = slo.get("checks", [])
    return {
        "passed": bool(slo.get("passed", False)),
        "valid": reason is None,
        "reason": reason,
        "rps": agg.get("rps"),
        "p50_ms": agg.get("p50_ms"),
        "p95_ms": agg.get("p95_ms"),
        "p99_ms": agg.get("p99_ms"),
        "error_rate": (agg.get("failures", 0) / count) if count else None,
        "cpu_pct": target.get("cpu_pct_mean"),
        "rss_mb": target.get("rss_mb_peak"),
        "generator_cpu_pct": round(generator_cpu, 1),
        "send_lag_p99_ms": send_lag,
        "failed_checks": [c["name"] for c in checks if not c["passed"]],
        # the endpoint most of each failed check's offending requests came from
        "culprits": {
            c["name"]: c["culprit"] for c in checks if not c["passed"] and c.get("culprit")
        },
    }


def _step_dir(sweep_dir: Path, point: Point, index: int, rate: float) -> Path:
    base = sweep_dir / "points" / point.slug / f"{index:02d}-{rate:g}rps"
    candidate, n = base, 1
    while candidate.exists():  # a step interrupted before it was recorded
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def run_step(plan: SweepPlan, point: Point, rate: float, out: Path) -> dict[str, Any]:
    """Run one ``lagscope run`` step; exit 0 and 1 (SLO failed) both count as measured.

    On Ctrl-C the step is asked to stop (SIGINT: it cleans up and keeps its data) and
    waited for, so no server outlives the sweep.
    """
    proc = subprocess.Popen(
        step_argv(plan, point, rate, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = proc.communicate()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        raise
    if proc.returncode == 130:
        raise KeyboardInterrupt
    if proc.returncode not in (0, 1) or not (out / rundir.SUMMARY).exists():
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"step at {rate:g} req/s failed (exit {proc.returncode}): {last}")
    summary = json.loads((out / rundir.SUMMARY).read_text(encoding="utf-8"))
    return judge(summary, load_procs=plan.load_procs)


def run_leased_step(
    plan: SweepPlan, point: Point, rate: float, out: Path, *, lease: Lease
) -> tuple[dict[str, Any], str]:
    """Run one step in this process on ``lease``'s servers; (its figures, its outcome).

    KeyboardInterrupt when the step was interrupted (its directory is kept, unrecorded).
    """
    config = step_config(plan, point, rate=rate, out=out)
    check_room(config)
    orchestrator.run(config, lease=lease)
    if runfiles.count_events(out, "interrupted"):
        raise KeyboardInterrupt
    summary = build_summary(out, slos=parse_slos(plan.slos))
    figures = judge(dict(summary), load_procs=plan.load_procs)
    return figures, summary["run"]["outcome"]


class Sweep:
    """The sweep directory and its ``sweep.json`` state."""

    def __init__(self, directory: Path, plan: SweepPlan, state: dict[str, Any]) -> None:
        self.dir = directory
        self.plan = plan
        self.state = state

    @classmethod
    def create(cls, directory: Path, plan: SweepPlan) -> Sweep:
        runfiles.create(directory)
        state = {
            "plan": plan.to_json(),
            "machine": host_facts(),
            "started": time.time(),
            "estimate_s": plan.estimate_s(),
            "points": {p.slug: {"point": plan.to_json()["points"][i], "steps": []}
                       for i, p in enumerate(plan.points)},
            "finished": False,
        }  # fmt: skip
        sweep = cls(directory, plan, state)
        sweep.save()
        return sweep

    @classmethod
    def resume(cls, directory: Path) -> Sweep:
        path = directory / rundir.SWEEP_JSON
        if not path.is_file():
            raise UsageError(f"{directory} is not a sweep directory (no sweep.json)")
        state = json.loads(path.read_text(encoding="utf-8"))
        return cls(directory, SweepPlan.from_json(state["plan"]), state)

    def save(self) -> None:
        runfiles.write_json(self.dir / rundir.SWEEP_JSON, self.state)

    def history(self, point: Point) -> list[Step]:
        return [
            Step(rate=s["rate"], kind=s["kind"], passed=s["passed"], valid=s["valid"])
            for s in self.state["points"][point.slug]["steps"]
        ]

    def run_point(self, point: Point, *, echo: bool = True) -> None:
        steps = self.state["points"][point.slug]["steps"]
        first_ever = not steps
        with PointTarget(self.plan, point, self.dir / "points" / point.slug) as servers:
            while (action := next_step(self.history(point), self.plan.limits)) is not None:
                rate, kind = action
                out = _step_dir(self.dir, point, len(steps) + 1, rate)
                began = time.monotonic()
                use: dict[str, Any]
                if self.plan.restart_each_step:
                    figures = run_step(self.plan, point, rate, out)
                    use = {"target": "started", "target_reason": "--restart-each-step"}
                else:
                    lease, how, why = servers.acquire(first_ever=first_ever)
                    try:
                        figures, outcome = run_leased_step(self.plan, point, rate, out, lease=lease)
                    except TargetStartError:
                        # A reused target that died after it was found healthy, before the
                        # step could start on it: the step runs again, on a fresh one (in a
                        # folder of its own; the failed start's is kept).
                        if how != "reused" or servers.unfit() is None:
                            raise
                        out = _step_dir(self.dir, point, len(steps) + 1, rate)
                        lease, how, why = servers.acquire(first_ever=first_ever)
                        figures, outcome = run_leased_step(self.plan, point, rate, out, lease=lease)
                    use = {"target": how, "target_reason": why, "target_pid": lease.target.pid}
                    servers.finished(outcome)
                steps.append({"rate": rate, "kind": kind, "run_dir": str(out.relative_to(self.dir)),
                              **figures, **use,
                              "wall_s": round(time.monotonic() - began, 2)})  # fmt: skip
                self.save()
                if echo:
                    print(_step_line(point, len(steps), kind, rate, figures, use), flush=True)

    def run(self, *, echo: bool = True) -> None:
        with orchestrator.sigterm_as_interrupt():  # a configuration's servers are stopped
            for point in self.plan.points:
                self.run_point(point, echo=echo)
        self.state["finished"] = True
        self.save()


def _step_line(
    point: Point, n: int, kind: str, rate: float, fig: dict[str, Any], use: dict[str, Any]
) -> str:
    verdict = "pass" if fig["passed"] else "FAIL " + ",".join(fig["failed_checks"])
    if not fig["valid"]:
        verdict += f" (invalid: {fig['reason']})"
    p99 = "–" if fig["p99_ms"] is None else f"{fig['p99_ms']:.1f}"
    return (
        f"[{point.slug}] step {n} ({kind}) {rate:g} req/s → {verdict}; "
        f"p99 {p99} ms, target CPU {fig['cpu_pct'] or 0:.0f}%; target {use['target']}"
    )
