"""The ``lagscope`` command: ``run``, ``report``, ``compare``, ``apps``, ``sweep``, ``gameday``.

User errors (LagscopeError, bad flags) print one line and exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from lagscope.harness.cli import gameday as gameday_cli
from lagscope.harness.cli import loadgen as loadgen_cli
from lagscope.harness.cli import notices
from lagscope.harness.cli import remote as remote_cli
from lagscope.harness.cli import reports as cli_reports
from lagscope.harness.cli import slo as slo_cli
from lagscope.harness.cli import sweep as sweep_cli
from lagscope.harness.run import config as cfg
from lagscope.harness.run.load_model import (
    DEFAULT_MAX_USERS,
    DEFAULT_SPAWN_RATE,
    DEFAULT_USERS,
    load_model,
)
from lagscope.harness.run.openapi import options as openapi_options
from lagscope.harness.run.profiling import check_profile
from lagscope.reports import wording
from lagscope.reports.slo_spec import parse_slos

from lagscope import defaults, rundir
from lagscope.app_import import CHECK_WAIT_S
from lagscope.arrivals import ARRIVALS
from lagscope.errors import LagscopeError, RunDirError, TargetStartError, UsageError
from lagscope.injection import KINDS, parse_spec
from lagscope.units import parse_megabytes, parse_milliseconds, parse_seconds

if TYPE_CHECKING:
    from lagscope.target_apps.shop.faults import Fault

DESCRIPTION = (
    "lagscope drives load at a FastAPI/asyncio service and names the code that blocks its "
    "event loop. Commands: run, report, compare, apps, sweep, gameday, slo, loadgen; "
    "'lagscope COMMAND --help' describes each."
)
_NEGATIVE = re.compile(r"^-\.?\d")  # "-5s", "-1", "-.5": a value, not an option
# The flags a fault's conditions may set (lagscope.target_apps.shop.faults.Fault.conditions).
CONDITION_FLAGS = (
    "--downstream-latency", "--downstream-stock-latency", "--relay-latency", "--threadpool",
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}{_did_you_mean(self, message)} (see '{self.prog} --help')")


def _did_you_mean(parser: argparse.ArgumentParser, message: str) -> str:
    """``; did you mean --duration?`` for a mistyped option argparse did not recognise."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return ""
    options = sorted(o for o in _options(parser) if o.startswith("--"))
    typed = [w.split("=", 1)[0] for w in message.removeprefix(prefix).split() if w[:2] == "--"]
    guesses = [m for w in typed for m in difflib.get_close_matches(w, options, n=1, cutoff=0.75)]
    return f"; did you mean {' '.join(dict.fromkeys(guesses))}?" if guesses else ""


def _options(parser: argparse.ArgumentParser, *, taking_a_value: bool = False) -> set[str]:
    """The option strings of ``parser`` and its subcommands (only those that take one
    value, with ``taking_a_value``)."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                found |= _options(subparser, taking_a_value=taking_a_value)
        elif not taking_a_value or action.nargs is None:
            found.update(action.option_strings)
    return found


def join_negative_values(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``--duration -5s`` as ``--duration=-5s``.

    argparse takes a value that starts with '-' for an option unless it is a plain
    negative number, and answers "expected one argument"; joined to its option, the
    value reaches the option's own check, which says what is wrong with it.
    """
    takes_value = _options(parser, taking_a_value=True)
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in takes_value and _NEGATIVE.match(arg):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def _add_run(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "run",
        help="drive load at an app and diagnose its event loop",
        description="Serve an app on 127.0.0.1 with lagscope's probe in every worker, drive "
        "Locust load at it, and report exact latency, event-loop stalls (with the line that "
        "blocked) and a diagnosis. Durations take a unit (ms, s, m, h); a bare number is "
        "seconds for --duration and --profile, milliseconds for the thresholds.",
    )
    p.add_argument(
        "--app",
        default="shop",
        help="built-in app name (shop) or 'module:attr' "
        "naming your FastAPI() instance (default: %(default)s)",
    )
    p.add_argument(
        "--scenario",
        help="built-in scenario name or a locustfile path "
        "(default: shop for shop, openapi otherwise)",
    )
    p.add_argument(
        "--users",
        type=int,
        help=f"closed model: concurrent Locust users (default: {DEFAULT_USERS})",
    )
    p.add_argument(
        "--spawn-rate",
        type=float,
        help=f"closed model: users started per second (default: {DEFAULT_SPAWN_RATE:g})",
    )
    p.add_argument(
        "--rate", help="open model: requests/s in total, or a linear ramp START:END (e.g. 50:500)"
    )
    p.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        help="with --rate: constant spacing or poisson (default: constant)",
    )
    p.add_argument(
        "--max-users",
        type=int,
        help="with --rate: cap of the pool of users arrivals are handed to; when all are busy, "
        f"sends are late and counted so (default: {DEFAULT_MAX_USERS})",
    )
    p.add_argument(
        "--load-procs",
        type=int,
        default=1,
        help="load-generator (Locust) processes; --rate and --max-users are totals split among "
        "them (default: %(default)s)",
    )
    p.add_argument(
        "--duration",
        default=f"{defaults.DURATION_S:g}s",
        help="load duration, e.g. 30s or 2m; a bare number is seconds (default: %(default)s)",
    )
    p.add_argument(
        "--workers", type=int, default=1, help="server worker processes (default: %(default)s)"
    )
    p.add_argument(
        "--loop",
        choices=cfg.LOOPS,
        default="auto",
        help="event loop implementation (default: %(default)s)",
    )
    p.add_argument(
        "--server",
        choices=cfg.SERVERS,
        default="uvicorn",
        help="uvicorn, or gunicorn with uvicorn workers (default: %(default)s)",
    )
    p.add_argument(
        "--threadpool",
        type=int,
        help="threads for sync endpoints (anyio's limiter; default: anyio's 40, unless a "
        "--fault sets it)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        help="switch on a fault of shop, repeatable ('lagscope apps' lists them)",
    )
    p.add_argument(
        "--inject",
        action="append",
        default=[],
        metavar="'KIND KEY=VALUE ...'",
        help="inject a fault into the app from the start, through the probe (repeatable), "
        "e.g. 'dependency_latency host=127.0.0.1:8765 latency=1.5s'; kinds: " + ", ".join(KINDS),
    )
    p.add_argument(
        "--injector",
        action="store_true",
        help="turn the probe's fault injector on without injecting anything yet: faults are "
        f"then switched with PUT {rundir.INJECT_PATH} and the run's token (run.json: admin)",
    )
    p.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="PKG",
        help="a further package whose frames are your code (the app's own package always is), "
        "e.g. a shared library of yours; repeatable",
    )
    p.add_argument(
        "--stall-threshold",
        default=f"{defaults.STALL_THRESHOLD_MS:g}ms",
        help="loop lag that counts as a stall; a bare number is ms (default: %(default)s)",
    )
    p.add_argument(
        "--probe-interval",
        default=f"{defaults.PROBE_INTERVAL_MS:g}ms",
        help="heartbeat interval of the probe; a bare number is ms (default: %(default)s)",
    )
    p.add_argument("--no-probe", action="store_true", help="serve the app without the probe")
    p.add_argument(
        "--metrics",
        action="store_true",
        help=f"the probe also answers Prometheus scrapes at {defaults.METRICS_PATH} on the "
        "target's port (printed once it serves; multiprocess mode over the workers); the "
        f"last scrape is kept as {rundir.METRICS_SCRAPE}",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="run directory, new or empty (default: runs/<time>-<app>-<scenario>)",
    )
    p.add_argument(
        "--startup-timeout",
        default=f"{defaults.STARTUP_TIMEOUT_S:g}s",
        help="how long the app may take to start serving (an app that loads a model at start "
        "needs long); a bare number is seconds (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the scenario's random choices (default: %(default)s)",
    )
    p.add_argument(
        "--downstream-latency",
        help="latency of shop's payments downstream; a bare number is ms "
        f"(default: {defaults.DOWNSTREAM_LATENCY_MS:g}ms, unless a --fault sets it)",
    )
    p.add_argument(
        "--downstream-stock-latency",
        help="latency of shop's warehouse (stock) downstream; a bare number is ms "
        f"(default: {defaults.DOWNSTREAM_STOCK_LATENCY_MS:g}ms, unless a --fault sets it)",
    )
    p.add_argument(
        "--relay-latency",
        help="time shop's mail relay takes per receipt, two at a time; a bare number is ms "
        f"(default: {defaults.RELAY_LATENCY_MS:g}ms, unless a --fault sets it)",
    )
    p.add_argument(
        "--memory-cap",
        default=f"{defaults.MEMORY_CAP_MB:g}MB",
        help="RSS per worker at which seeded leaks stop growing (default: %(default)s)",
    )
    p.add_argument(
        "--allow-remote-target",
        action="store_true",
        help="let a scenario send to absolute URLs that are not 127.0.0.1/localhost",
    )
    p.add_argument(
        "--methods",
        help="openapi scenario: HTTP methods sent, e.g. GET,POST, or all (default: GET,HEAD: "
        "nothing that writes)",
    )
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="openapi scenario: a header sent with every request, repeatable, e.g. "
        "'Authorization: Bearer …' (run.json records it masked)",
    )
    p.add_argument(
        "--weights",
        help="openapi scenario: relative weights, 'GET /items=3,/health=0' or a .toml file "
        "of such lines (default: every operation alike)",
    )
    remote_cli.add_args(p)
    cli_reports.add_slo_args(p)
    cli_reports.add_profile_arg(p)


def build_parser() -> _Parser:
    parser = _Parser(prog="lagscope", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    report = sub.add_parser("report", help="re-render a run directory from its saved data")
    report.add_argument("run_dir", type=Path)
    cli_reports.add_slo_args(report)
    cli_reports.add_compare(sub)
    sub.add_parser("apps", help="list the built-in apps, their faults and the game days")
    sweep_cli.add_parser(sub)
    gameday_cli.add_parser(sub)
    slo_cli.add_parser(sub)
    loadgen_cli.add_parser(sub)
    return parser


def _given(args: argparse.Namespace, flag: str) -> str | None:
    """The value of ``flag`` as given on the command line, None when absent."""
    value = getattr(args, flag[2:].replace("-", "_"))
    return None if value is None else str(value)


def config_from_args(args: argparse.Namespace) -> cfg.RunConfig:
    """Validate the ``run`` flags into a RunConfig (raises UsageError).

    Everything that can be checked is checked here, before the run's banner is printed;
    importing the user's app (in a child process) comes last, as the slowest check.
    """
    for flag, value in (("--workers", args.workers), ("--load-procs", args.load_procs)):
        cfg.check_positive(value, flag=flag)
    if args.threadpool is not None:
        cfg.check_positive(args.threadpool, flag="--threadpool")
    duration_s = parse_seconds(args.duration, what="--duration")
    startup_timeout_s = parse_seconds(args.startup_timeout, what="--startup-timeout")
    profile_s = parse_seconds(args.profile, what="--profile") if args.profile else 0.0
    check_profile(profile_s, duration_s=duration_s)
    if profile_s and args.no_probe:
        raise UsageError("--profile runs inside the probe; drop --no-probe to profile")
    if args.metrics and args.no_probe:
        raise UsageError("--metrics come from the probe; drop --no-probe to serve them")
    slos = cli_reports.slo_texts(args)
    parse_slos(slos)  # bad SLO text fails before any load runs
    load = load_model(args)
    remote = remote_cli.remote_fields(
        args, wait_s=parse_seconds(args.workers_wait, what="--workers-wait")
    )
    faults = cfg.resolve_faults(args.fault, app=args.app)
    inject = tuple(dict.fromkeys(parse_spec(text) for text in args.inject))
    if (inject or args.injector) and args.no_probe:
        raise UsageError("--inject and --injector work through the probe; drop --no-probe")
    # A fault brings the conditions it needs, for the flags not given.
    given = {flag: _given(args, flag) for flag in CONDITION_FLAGS}
    values, conditions = cfg.fault_conditions(faults, given)
    chosen = {flag: given[flag] or values.get(flag) for flag in CONDITION_FLAGS}
    app = remote["target"] or args.app  # an external target is named by its URL
    scenario, scenario_file = cfg.resolve_scenario(args.scenario, app=app)
    if remote["load_workers"] and scenario == "openapi":
        raise UsageError(
            "--load-workers sends a locustfile to its workers; give --scenario "
            "a built-in scenario or a locustfile (the openapi scenario runs locally)"
        )
    openapi_given = [flag for flag, value in zip(openapi_options.FLAGS, (args.methods,
                     args.header, args.weights), strict=True) if value]  # fmt: skip
    openapi_options.check_scenario(scenario, openapi_given)
    methods = openapi_options.parse_methods(args.methods)
    headers = tuple(openapi_options.parse_header(h) for h in args.header)
    weights = openapi_options.parse_weights(args.weights)
    stall_threshold_ms = parse_milliseconds(args.stall_threshold, what="--stall-threshold")
    interval_ms = parse_milliseconds(args.probe_interval, what="--probe-interval")
    downstream_ms, stock_ms, relay_ms = (
        parse_milliseconds(chosen[flag] or f"{default:g}ms", what=flag)
        for flag, default in (
            ("--downstream-latency", defaults.DOWNSTREAM_LATENCY_MS),
            ("--downstream-stock-latency", defaults.DOWNSTREAM_STOCK_LATENCY_MS),
            ("--relay-latency", defaults.RELAY_LATENCY_MS),
        )
    )
    threadpool = int(chosen["--threadpool"]) if chosen["--threadpool"] is not None else None
    memory_cap_mb = parse_megabytes(args.memory_cap, what="--memory-cap")
    out = args.out or cfg.default_out(app, scenario)
    from lagscope.harness.run.diskspace import check_room  # pyarrow: only for a run

    from lagscope.runfiles import check_new, check_writable

    if args.out is not None:  # a default name already taken is numbered (create_numbered)
        check_new(out)
    check_writable(out)
    code = cfg.check_code(args.code)
    wait_s = min(CHECK_WAIT_S, startup_timeout_s)
    app_import = "" if remote["target"] else cfg.resolve_app(args.app, code=code, wait_s=wait_s)
    config = cfg.RunConfig(
        app=app,
        app_import=app_import,
        scenario=scenario,
        scenario_file=scenario_file,
        **load,
        duration_s=duration_s,
        workers=args.workers,
        server=args.server,
        loop=args.loop,
        threadpool=threadpool,
        faults=faults,
        code=code,
        stall_threshold_ms=stall_threshold_ms,
        interval_ms=interval_ms,
        probe=not args.no_probe and (remote["target"] is None or remote["probe_token"] is not None),
        seed=args.seed,
        out=out,
        downstream_latency_ms=downstream_ms,
        downstream_stock_latency_ms=stock_ms,
        relay_latency_ms=relay_ms,
        conditions=conditions,
        memory_cap_mb=memory_cap_mb,
        allow_remote_target=args.allow_remote_target,
        profile_s=profile_s,
        slos=tuple(slos),
        load_procs=args.load_procs,
        startup_timeout_s=startup_timeout_s,
        metrics=args.metrics,
        injector=bool(inject) or args.injector,
        inject=inject,
        methods=methods,
        headers=headers,
        weights=weights,
        **remote,
    )
    check_room(config)  # a filesystem too small for the run is refused before it starts
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from lagscope.runfiles import create_numbered

    config = config_from_args(args)
    # Imported once the flags are good: a mistake is told without waiting for pandas & co.
    from lagscope.harness.run.orchestrator import run

    if args.out is None:  # another run may have taken the default name this same second
        config = dataclasses.replace(config, out=create_numbered(config.out))
    print(f"lagscope: running {config.app} / {config.scenario} for {config.duration_s:g}s "
          f"→ {config.out}", file=sys.stderr, flush=True)  # fmt: skip
    if config.conditions:
        print(f"lagscope: {wording.conditions(config.to_json()['conditions'])} (give a flag "
              "to choose another value)", file=sys.stderr, flush=True)  # fmt: skip
    progress = notices.StartupProgress()
    try:
        run_dir = run(config, on_ready=_announce_metrics, on_note=_announce, progress=progress)
    finally:
        progress.done()
    return report_run(run_dir, slos=config.slos)


def report_run(run_dir: Path, *, slos: Sequence[str]) -> int:
    """Build and print the report of a finished run; the exit code: 130 interrupted, 3 cut
    short by the machine (or its report could not be written), 1 an SLO failed, else 0."""
    from lagscope.reports.build import build
    from lagscope.reports.renderers.terminal import print_summary

    try:
        summary = build(run_dir, slos=parse_slos(slos))
    except RunDirError as exc:
        print(notices.report_failed_line(run_dir, exc), file=sys.stderr)
        return notices.CUT_SHORT_EXIT
    print_summary(summary)
    if summary["run"]["outcome"] == "interrupted":
        return 130
    line = notices.cut_short_line(summary)
    if line is not None:
        print(line, file=sys.stderr)
        return notices.CUT_SHORT_EXIT
    return cli_reports.exit_code(summary)


def _announce(note: str) -> None:
    print(f"lagscope: {note}", file=sys.stderr, flush=True)


def _announce_metrics(urls: dict[str, str]) -> None:
    if "metrics" in urls:
        print(f"lagscope: metrics at {urls['metrics']} while the load runs",
              file=sys.stderr, flush=True)  # fmt: skip


def _cmd_report(args: argparse.Namespace) -> int:
    from lagscope.reports.build import build
    from lagscope.reports.renderers.terminal import print_summary
    from lagscope.reports.rundata import read_run_json

    texts = cli_reports.slo_texts(args)
    if not texts:  # the SLOs the run was given, if any
        texts = list(read_run_json(args.run_dir).get("config", {}).get("slos", []))
    try:
        summary = build(args.run_dir, slos=parse_slos(texts))
    except RunDirError as exc:
        cause = exc.__cause__
        from lagscope.runfiles import no_space

        fix = (
            "free space there and run lagscope report again"
            if isinstance(cause, OSError) and no_space(cause)
            else "copy the run directory somewhere writable and run lagscope report on the copy"
        )
        raise RunDirError(f"{exc}; {fix}") from exc
    print_summary(summary)
    return cli_reports.exit_code(summary)


REPRODUCE_DURATION = "12s"  # what the README's measured fault runs use


def reproduce_command(fault: Fault) -> str:
    """The ``lagscope run`` that shows ``fault``'s finding (as quoted in the README): the
    fault's flag alone (it sets the conditions it needs)."""
    return f"lagscope run --app shop --fault {fault.name} --duration {REPRODUCE_DURATION}"


def _cmd_apps(args: argparse.Namespace) -> int:
    from lagscope.target_apps.shop.faults import CATALOGUE, condition_flags

    print(
        "shop — catalogue, orders and logins in a real DB (SQLite file, or DATABASE_URL), "
        "payments and stock downstream (target_apps/shop)"
    )
    print("  faults (one module each in target_apps/shop/faults/, broken and fixed side by side):")
    for fault in CATALOGUE.values():
        print(f"  --fault {fault.name:<22} {fault.summary}")
        print(f"  {'':<30} finding: {fault.finding}; reproduce: {reproduce_command(fault)}")
        if fault.conditions:
            print(f"  {'':<30} sets {condition_flags(fault)} unless given: {fault.why}")
    print("game days (lagscope gameday NAME [--app yours]; a scripted incident):")
    print("\n".join(gameday_cli.list_gamedays()))
    return 0


COMMANDS = {
    "run": _cmd_run,
    "report": _cmd_report,
    "apps": _cmd_apps,
    "compare": cli_reports.cmd_compare,
    "sweep": sweep_cli.cmd_sweep,
    "gameday": gameday_cli.cmd_gameday,
    "slo": slo_cli.cmd_slo,
    "loadgen": loadgen_cli.cmd_loadgen,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        given = sys.argv[1:] if argv is None else argv
        args = parser.parse_args(join_negative_values(given, parser))
        return COMMANDS[args.command](args)
    except TargetStartError as exc:
        notices.print_start_error(exc)
        return 2
    except LagscopeError as exc:
        print(f"lagscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lagscope: interrupted", file=sys.stderr)
        return 130
