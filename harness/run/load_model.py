"""The load model a ``run`` asked for: closed (``--users``) or open (``--rate``), validated."""

from __future__ import annotations

import argparse
from typing import Any

from lagscope import defaults
from lagscope.arrivals import parse_rate
from lagscope.errors import UsageError

DEFAULT_USERS = defaults.USERS
DEFAULT_SPAWN_RATE = defaults.SPAWN_RATE
DEFAULT_MAX_USERS = defaults.MAX_USERS


def _check_positive(value: float, *, flag: str) -> None:
    if value <= 0:
        raise UsageError(f"{flag} must be greater than zero (got {value:g})")


def load_model(args: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig fields of the load model (``users``, ``spawn_rate``, ``rate``, …).

    ``--rate`` excludes ``--users``/``--spawn-rate``; ``--arrivals``/``--max-users``
    need ``--rate``. Raises UsageError saying which flag to drop or add.
    """
    if args.rate is None:
        for flag, value in (("--arrivals", args.arrivals), ("--max-users", args.max_users)):
            if value is not None:
                raise UsageError(f"{flag} applies to the open model only; add --rate R")
        users = DEFAULT_USERS if args.users is None else args.users
        spawn_rate = DEFAULT_SPAWN_RATE if args.spawn_rate is None else args.spawn_rate
        _check_positive(users, flag="--users")
        _check_positive(spawn_rate, flag="--spawn-rate")
        return {"users": users, "spawn_rate": spawn_rate}
    for flag, value in (("--users", args.users), ("--spawn-rate", args.spawn_rate)):
        if value is not None:
            raise UsageError(
                f"--rate (open model) and {flag} (closed model) exclude each other; "
                f"drop {flag}, or drop --rate and use --users"
            )
    max_users = DEFAULT_MAX_USERS if args.max_users is None else args.max_users
    _check_positive(max_users, flag="--max-users")
    return {
        "users": None,
        "spawn_rate": DEFAULT_SPAWN_RATE,
        "rate": parse_rate(args.rate),
        "arrivals": args.arrivals or "constant",
        "max_users": max_users,
    }
