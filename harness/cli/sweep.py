"""``lagscope sweep`` flags and command (kept apart from the ``run`` CLI)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lagscope.harness.run import config as cfg
from lagscope.harness.run.sweep_plan import DEFAULT_SLOS, STEP_OVERHEAD_S, SweepPlan, matrix
from lagscope.reports.rate_search import SearchLimits

from lagscope import defaults
from lagscope.errors import UsageError
from lagscope.units import parse_seconds


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="find the highest rate each server configuration sustains under an SLO"
    )
    p.add_argument(
        "--app",
        default="shop",
        help="built-in app name (shop) or 'module:attr' (default: %(default)s)",
    )
    p.add_argument("--scenario", help="built-in scenario name or a locustfile path")
    p.add_argument(
        "--workers", default="1,2", help="worker counts, e.g. 1,2,4 (default: %(default)s)"
    )
    p.add_argument(
        "--server", default="uvicorn", help="servers: uvicorn,gunicorn (default: %(default)s)"
    )
    p.add_argument(
        "--loop", default="auto", help="event loops: auto,asyncio,uvloop (default: %(default)s)"
    )
    p.add_argument(
        "--threadpool",
        help="thread limiter sizes for sync endpoints, e.g. 40,100 (default: anyio's 40)",
    )
    p.add_argument("--fault", action="append", default=[], help="switch on a fault of shop")
    p.add_argument(
        "--slo",
        action="append",
        help=f"SLO a step must meet (default: {' and '.join(DEFAULT_SLOS)})".replace("%", "%%"),
    )
    p.add_argument(
        "--step-duration",
        default="5s",
        help="load duration of each step; a bare number is seconds (default: %(default)s)",
    )
    p.add_argument(
        "--start-rate",
        type=float,
        default=defaults.SWEEP_START_RATE,
        help="first rate tried, req/s (default: %(default)g)",
    )
    p.add_argument(
        "--max-rate",
        type=float,
        default=5000.0,
        help="highest rate tried, req/s (default: %(default)g)",
    )
    p.add_argument(
        "--min-rate",
        type=float,
        default=5.0,
        help="lowest rate tried, req/s (default: %(default)g)",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=8,
        help="steps per configuration at most (default: %(default)s)",
    )
    p.add_argument(
        "--precision",
        type=float,
        default=0.15,
        help="stop when hi/lo <= 1+this (default: %(default)g)",
    )
    p.add_argument(
        "--load-procs", type=int, default=1, help="Locust processes per step (default: %(default)s)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the scenario (default: %(default)s)"
    )
    p.add_argument(
        "--restart-each-step",
        action="store_true",
        help="start and stop the servers around every step, each step a full 'lagscope run' "
        "with its report pages and charts (default: a configuration's steps share one target "
        "while it stays healthy, and only the best step's report page is rendered)",
    )
    p.add_argument("--out", type=Path, help="sweep directory (default runs/<time>-sweep-<app>)")
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted sweep")


def plan_from_args(args: argparse.Namespace) -> SweepPlan:
    positive = {
        "--start-rate": args.start_rate,
        "--max-rate": args.max_rate,
        "--min-rate": args.min_rate,
        "--max-steps": args.max_steps,
        "--load-procs": args.load_procs,
        "--precision": args.precision,
    }
    for flag, value in positive.items():
        cfg.check_positive(value, flag=flag)
    if args.max_steps < 2:
        raise UsageError("--max-steps must be at least 2 (one search step and its confirmation)")
    if not args.min_rate <= args.start_rate <= args.max_rate:
        raise UsageError("--start-rate must lie between --min-rate and --max-rate")
    cfg.resolve_app(args.app)
    scenario = cfg.resolve_scenario(args.scenario, app=args.app)[1] if args.scenario else None
    return SweepPlan(
        app=args.app,
        scenario=str(scenario) if scenario else None,
        points=matrix(
            workers=args.workers, servers=args.server, loops=args.loop, threadpools=args.threadpool
        ),
        limits=SearchLimits(
            start=args.start_rate,
            min_rate=args.min_rate,
            max_rate=args.max_rate,
            precision=args.precision,
            max_steps=args.max_steps,
        ),
        step_s=parse_seconds(args.step_duration, what="--step-duration"),
        slos=tuple(args.slo or DEFAULT_SLOS),
        load_procs=args.load_procs,
        faults=cfg.resolve_faults(args.fault, app=args.app),
        seed=args.seed,
        restart_each_step=args.restart_each_step,
    )


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"


def cmd_sweep(args: argparse.Namespace) -> int:
    # A mistake in the flags is told before these (pandas & co.) are imported.
    plan = plan_from_args(args) if args.resume is None else None
    from lagscope.harness.run.sweep import Sweep
    from lagscope.reports.sweep_build import build_sweep

    if plan is None:
        sweep = Sweep.resume(args.resume)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = args.out or Path("runs") / f"{stamp}-sweep-{cfg.safe_name(args.app)}"
        sweep = Sweep.create(out, plan)
    plan = sweep.plan
    print(
        f"lagscope sweep: {len(plan.points)} configuration(s) × at most {plan.limits.max_steps} "
        f"steps × ({plan.step_s:g}s + ~{STEP_OVERHEAD_S:g}s start-up) = at most "
        f"{_minutes(plan.estimate_s())} "
        f"→ {sweep.dir}",
        flush=True,
    )
    try:
        sweep.run()
    finally:
        advice = build_sweep(sweep.dir)
    print(f"recommendation: {advice['text']}")
    print(f"sweep page: {sweep.dir / 'sweep.html'}")
    return 0
