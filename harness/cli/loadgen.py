"""``lagscope loadgen --master HOST:PORT``: a Locust worker on this machine for a
``lagscope run --load-workers N --master-bind ADDR:PORT`` elsewhere.

It becomes Locust itself (``os.execve``: one process, Locust's own signals and exit), a
worker started with ``-f -``: the scenario and the run's options come from the master
(harness.loadgen.distributed).  It serves one run, then exits; it also exits when the
master stops answering for a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from lagscope.harness.cli.remote import parse_host_port

from lagscope import rundir


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "loadgen",
        help="send load for a 'lagscope run --load-workers N' elsewhere (a Locust worker)",
        description="Connect to the Locust master of a 'lagscope run --load-workers N "
        "--master-bind ADDR:PORT', receive its scenario, send its share of the load and "
        "ship every request's record back to it. Serves one run, then exits.",
    )
    p.add_argument("--master", required=True, metavar="HOST:PORT", help="the run's --master-bind")
    p.add_argument(
        "--name",
        help="how this worker is named in the run's records (default: HOSTNAME:PID)",
    )


def argv_for(host: str, port: int) -> list[str]:
    """Locust's command line for a worker of the master at ``host:port``."""
    return [
        sys.executable, "-m", "locust", "--worker", "-f", "-",
        "--master-host", host, "--master-port", str(port), "--loglevel", "WARNING",
    ]  # fmt: skip


def cmd_loadgen(args: argparse.Namespace) -> int:
    host, port = parse_host_port(args.master, flag="--master")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGSCOPE_")}
    if args.name:
        env[rundir.ENV_LOADGEN_NAME] = args.name
    env["PYTHONUNBUFFERED"] = "1"
    argv = argv_for(host, port)
    print(f"lagscope: load worker for the master at {host}:{port}", file=sys.stderr, flush=True)
    os.execve(argv[0], argv, env)
