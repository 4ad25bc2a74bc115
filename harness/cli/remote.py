"""``run`` flags for load beyond the harness's own servers: an external target, the probe's
token, and load workers on other machines (Locust's distributed runner)."""

from __future__ import annotations

import argparse
import re
from typing import Any
from urllib.parse import urlsplit

from lagscope import loopback
from lagscope.errors import UsageError

_HOST_PORT = re.compile(r"^(?P<host>[^\s:]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")
# Flags that act on a server lagscope starts; with --target there is none.
_OWN_SERVER_ONLY = ("fault", "inject", "injector", "profile", "metrics", "no_probe")
DEFAULT_WORKERS_WAIT = "60s"


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target",
        metavar="URL",
        help="load a service lagscope did not start (e.g. http://127.0.0.1:8000); "
        "non-loopback addresses need --allow-remote-target",
    )
    p.add_argument(
        "--probe-token",
        metavar="TOKEN",
        help="with --target: the token the target's instrument(app, probe_token=...) was given; "
        "the harness then collects every worker's loop lag, stalls and gauges during the run",
    )
    p.add_argument(
        "--load-workers",
        type=int,
        default=0,
        metavar="N",
        help="send load from N 'lagscope loadgen --master ADDR:PORT' processes (Locust "
        "workers, on any machines) instead of local processes; needs --master-bind",
    )
    p.add_argument(
        "--master-bind",
        metavar="ADDR:PORT",
        help="with --load-workers: where the Locust master listens for them",
    )
    p.add_argument(
        "--workers-wait",
        default=DEFAULT_WORKERS_WAIT,
        help="with --load-workers: how long to wait for all of them to connect "
        "(default: %(default)s)",
    )


def parse_host_port(text: str, *, flag: str) -> tuple[str, int]:
    """``"127.0.0.4:5557"`` → ``("127.0.0.4", 5557)``; UsageError saying the form otherwise."""
    match = _HOST_PORT.match(text.strip())
    if match is None or not 0 < int(match.group("port")) < 65536:
        raise UsageError(f"{flag} {text!r} is not ADDR:PORT; give one like 127.0.0.1:5557")
    return match.group("host").strip("[]"), int(match.group("port"))


def check_target(url: str, *, allow_remote: bool) -> str:
    """``url`` without a trailing slash, if it is an http(s) URL lagscope may load."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target {url!r} is not an http(s) URL; give one like http://host:8000")
    if not allow_remote and not loopback.is_loopback_url(url):
        raise UsageError(
            f"--target {url} is not a loopback address; pass --allow-remote-target to load it"
        )
    return url.rstrip("/")


def remote_fields(args: argparse.Namespace, *, wait_s: float) -> dict[str, Any]:
    """The RunConfig fields of these flags, checked (UsageError names the flag to change)."""
    fields: dict[str, Any] = {"target": None, "probe_token": None, "load_workers": 0,
                              "master_bind": None, "workers_wait_s": wait_s}  # fmt: skip
    if args.target is not None:
        given = [f"--{name.replace('_', '-')}" for name in _OWN_SERVER_ONLY if getattr(args, name)]
        if args.workers != 1:
            given.append("--workers")
        if given:
            raise UsageError(
                f"{', '.join(given)} act on a server lagscope starts; drop them with --target"
            )
        fields["target"] = check_target(args.target, allow_remote=args.allow_remote_target)
    if args.probe_token is not None:
        if args.target is None:
            raise UsageError("--probe-token is for a --target's probe; add --target URL")
        if not args.probe_token.strip():
            raise UsageError("--probe-token is empty; give the token the target was started with")
        fields["probe_token"] = args.probe_token
    if args.load_workers < 0:
        raise UsageError(f"--load-workers must be zero or more (got {args.load_workers})")
    if args.load_workers:
        if args.master_bind is None:
            raise UsageError("--load-workers needs --master-bind ADDR:PORT for them to connect to")
        if args.load_procs != 1:
            raise UsageError("--load-workers and --load-procs exclude each other; drop one")
        parse_host_port(args.master_bind, flag="--master-bind")
        fields.update(load_workers=args.load_workers, master_bind=args.master_bind)
    elif args.master_bind is not None:
        raise UsageError("--master-bind is for --load-workers N; add it or drop --master-bind")
    return fields
