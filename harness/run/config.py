"""The resolved configuration of one run, and the checks that turn bad input into UsageError."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from lagscope import defaults, scenarios, servers
from lagscope.app_import import CHECK_WAIT_S, check_app
from lagscope.arrivals import ArrivalKind, Rate
from lagscope.errors import UsageError

LoopKind = Literal["auto", "asyncio", "uvloop"]
LOOPS: tuple[LoopKind, ...] = ("auto", "asyncio", "uvloop")
ServerKind = Literal["uvicorn", "gunicorn"]
SERVERS: tuple[ServerKind, ...] = ("uvicorn", "gunicorn")

BUILTIN_APPS = {"shop": servers.SHOP_APP}
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    app: str  # as given: "shop" or "module:attr"
    app_import: str  # the import string served
    scenario: str  # as given, or the default
    scenario_file: Path
    users: int | None  # closed model: concurrent Locust users; None in rate mode
    spawn_rate: float
    duration_s: float
    workers: int = 1
    server: ServerKind = "uvicorn"
    loop: LoopKind = "auto"
    threadpool: int | None = None  # anyio's thread limiter tokens; None keeps its default (40)
    faults: tuple[str, ...] = ()
    stall_threshold_ms: float = defaults.STALL_THRESHOLD_MS
    interval_ms: float = defaults.PROBE_INTERVAL_MS
    probe: bool = True
    seed: int = 0
    out: Path = field(default_factory=lambda: Path("runs"))
    sample_interval_s: float = 1.0
    downstream_latency_ms: float = defaults.DOWNSTREAM_LATENCY_MS
    downstream_stock_latency_ms: float = defaults.DOWNSTREAM_STOCK_LATENCY_MS
    memory_cap_mb: float = (
        defaults.MEMORY_CAP_MB
    )  # growing seeded faults stop at this RSS per worker
    allow_remote_target: bool = False
    profile_s: float = 0.0  # 0: no profiling; else a window of this length mid-run
    slos: tuple[str, ...] = ()  # SLO checks as given (--slo, --slo-file lines)
    # Open model (``--rate``): arrivals per second in total, planned (lagscope.arrivals).
    rate: Rate | None = None
    arrivals: ArrivalKind = "constant"
    max_users: int = defaults.MAX_USERS  # cap of the pool of users the arrivals are handed to
    load_procs: int = 1  # Locust processes (--processes), sharing the users or the plan
    startup_timeout_s: float = defaults.STARTUP_TIMEOUT_S  # for the target to serve

    @property
    def open_model(self) -> bool:
        return self.rate is not None

    @property
    def builtin_app(self) -> bool:
        return self.app in BUILTIN_APPS

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["scenario_file"] = str(self.scenario_file)
        data["out"] = str(self.out)
        data["faults"] = list(self.faults)
        data["slos"] = list(self.slos)
        data["rate"] = None if self.rate is None else str(self.rate)
        return data


def resolve_app(app: str, *, what: str = "--app", where: str = "") -> str:
    """Return the import string for ``app`` (a built-in name or ``module:attr``).

    A user's app is imported in a child process to check that it names an ASGI app
    (lagscope.app_import). Errors start with ``where`` (a file, for a game day) and name
    the input as ``what``.
    """
    if app in BUILTIN_APPS:
        return BUILTIN_APPS[app]
    if not _IMPORT_STRING.match(app):
        names = ", ".join(sorted(BUILTIN_APPS))
        raise UsageError(
            f"{where}{what} {app!r} is neither a built-in app ({names}) nor an import string "
            "like 'package.module:app'"
        )
    if not check_app(app, what=what, where=where):
        module = app.partition(":")[0]
        print(
            f"lagscope: importing {module!r} takes over {CHECK_WAIT_S:g} s (loading a model?); "
            "not waiting for it here: the server's start-up says if it fails",
            file=sys.stderr,
            flush=True,
        )
    return app


def resolve_scenario(
    scenario: str | None, *, app: str, what: str = "--scenario"
) -> tuple[str, Path]:
    """Return the scenario's name and locustfile; the default depends on the app."""
    builtin = scenarios.builtin()
    name = scenario or ("shop" if app == "shop" else "openapi")
    if name in builtin:
        return name, builtin[name]
    path = Path(name)
    if path.suffix == ".py" and path.is_file():
        return path.stem, path.resolve()
    names = ", ".join(builtin)
    raise UsageError(
        f"{what} {name!r} is neither a built-in scenario ({names}) nor a locustfile path"
    )


def resolve_faults(faults: Sequence[str], *, app: str, what: str = "--fault") -> tuple[str, ...]:
    """``faults`` without repeats, each a fault of shop; ``what`` names them in errors."""
    if not faults:
        return ()
    if app != "shop":
        raise UsageError(f"{what} applies to the built-in app only; add --app shop")
    from lagscope.target_apps.shop.faults import CATALOGUE

    for fault in faults:
        if fault not in CATALOGUE:
            known = ", ".join(sorted(CATALOGUE))
            raise UsageError(f"{what} {fault!r} is not a fault of shop; choose from: {known}")
    return tuple(dict.fromkeys(faults))


def safe_name(text: str) -> str:
    """``text`` usable in a file name (an import string's ``:`` and ``/`` replaced)."""
    return re.sub(r"[^\w.-]+", "_", text)


def default_out(app: str, scenario: str) -> Path:
    """``runs/<time>-<app>-<scenario>``; ``-2``, ``-3``... when a run started in the same
    second (two runs at once must not share a directory)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{stamp}-{safe_name(app)}-{scenario}"
    n, out = 1, base
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def check_positive(value: float, *, flag: str) -> None:
    if value <= 0:
        raise UsageError(f"{flag} must be greater than zero (got {value:g})")
