"""The resolved configuration of one run, and the checks that turn bad input into UsageError."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from lagscope.harness.run.openapi.options import mask

from lagscope import defaults, scenarios, servers
from lagscope.app_import import CHECK_WAIT_S, check_app
from lagscope.arrivals import ArrivalKind, Rate
from lagscope.errors import UsageError
from lagscope.injection import Injection

LoopKind = Literal["auto", "asyncio", "uvloop"]
LOOPS: tuple[LoopKind, ...] = ("auto", "asyncio", "uvloop")
ServerKind = Literal["uvicorn", "gunicorn"]
SERVERS: tuple[ServerKind, ...] = ("uvicorn", "gunicorn")

BUILTIN_APPS = {"shop": servers.SHOP_APP}
_PACKAGE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
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
    code: tuple[str, ...] = ()  # further packages of the user's code (--code), by import name
    stall_threshold_ms: float = defaults.STALL_THRESHOLD_MS
    interval_ms: float = defaults.PROBE_INTERVAL_MS
    probe: bool = True
    seed: int = 0
    out: Path = field(default_factory=lambda: Path("runs"))
    sample_interval_s: float = 1.0
    downstream_latency_ms: float = defaults.DOWNSTREAM_LATENCY_MS
    downstream_stock_latency_ms: float = defaults.DOWNSTREAM_STOCK_LATENCY_MS
    relay_latency_ms: float = defaults.RELAY_LATENCY_MS  # shop's mail relay, per receipt
    # The run conditions the faults set (flags not given): (fault, flag, value), in order.
    conditions: tuple[tuple[str, str, str], ...] = ()
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
    metrics: bool = False  # the probe answers Prometheus scrapes at defaults.METRICS_PATH
    # The probe's fault injector: on for this run (switched with the run's token), and the
    # faults injected from the start (--inject).
    injector: bool = False
    inject: tuple[Injection, ...] = ()
    # The openapi scenario (lagscope.harness.run.openapi): methods sent (None: not given,
    # the plan chooses), headers added to every request (run.json records them masked),
    # weights by operation or path.
    methods: tuple[str, ...] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    weights: tuple[tuple[str, float], ...] = ()
    # Beyond one machine (docs/scaling.md): a service lagscope did not start, the token of
    # its probe's data (never written to run.json), and load from Locust workers elsewhere.
    target: str | None = None
    probe_token: str | None = None
    load_workers: int = 0  # 0: local Locust processes (load_procs); N: remote workers
    master_bind: str | None = None  # ADDR:PORT the Locust master listens on for them
    workers_wait_s: float = 60.0  # how long the master waits for every load worker

    @property
    def external(self) -> bool:
        """The target was started by someone else (``--target``)."""
        return self.target is not None

    @property
    def load_processes(self) -> int:
        """Locust processes sending load: the remote workers, or the local processes."""
        return self.load_workers or self.load_procs

    @property
    def open_model(self) -> bool:
        return self.rate is not None

    @property
    def builtin_app(self) -> bool:
        return self.app in BUILTIN_APPS and not self.external

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["scenario_file"] = str(self.scenario_file)
        data["out"] = str(self.out)
        data["faults"] = list(self.faults)
        data["code"] = list(self.code)
        data["slos"] = list(self.slos)
        data["conditions"] = [
            {"fault": fault, "flag": flag, "value": value} for fault, flag, value in self.conditions
        ]
        data["rate"] = None if self.rate is None else str(self.rate)
        data["inject"] = [i.describe() for i in self.inject]
        data["methods"] = None if self.methods is None else list(self.methods)
        data["headers"] = [[name, mask(value)] for name, value in self.headers]
        data["weights"] = dict(self.weights)
        data["probe_token"] = None if self.probe_token is None else mask(self.probe_token)
        return data


def _import_string_meant(app: str) -> str | None:
    """What ``app`` most likely meant: a module or a file (``pkg.main``, ``pkg/main.py``,
    ``src/pkg/main.py`` from a src layout) with the usual ``:app``; None for anything else."""
    path = app.removesuffix(".py").replace("\\", "/").strip("/").removeprefix("src/")
    module = path.replace("/", ".")
    guess = f"{module}:app"
    return guess if ":" not in app and _IMPORT_STRING.match(guess) else None


def resolve_app(
    app: str,
    *,
    what: str = "--app",
    where: str = "",
    code: Sequence[str] = (),
    wait_s: float = CHECK_WAIT_S,
) -> str:
    """Return the import string for ``app`` (a built-in name or ``module:attr``).

    The import check waits ``wait_s`` at most; a slower import is left to the server's
    start-up (--startup-timeout).

    A user's app is imported in a child process to check that it names an ASGI app
    (lagscope.app_import), and that the ``code`` packages can be found next to it.
    Errors start with ``where`` (a file, for a game day) and name the input as ``what``.
    """
    if app in BUILTIN_APPS:
        if code:
            check_app(BUILTIN_APPS[app], what=what, where=where, code=code)
        return BUILTIN_APPS[app]
    if not _IMPORT_STRING.match(app):
        names = ", ".join(sorted(BUILTIN_APPS))
        guess = _import_string_meant(app)
        raise UsageError(
            f"{where}{what} {app!r} is neither a built-in app ({names}) nor an import string "
            "like 'package.module:app'" + (f"; did you mean {guess!r}?" if guess else "")
        )
    if not check_app(app, what=what, where=where, code=code, wait_s=wait_s):
        module = app.partition(":")[0]
        print(
            f"lagscope: importing {module!r} takes over {wait_s:g} s (loading a model?); "
            "not waiting for it here: the server's start-up says if it fails",
            file=sys.stderr,
            flush=True,
        )
    return app


def check_code(code: Sequence[str]) -> tuple[str, ...]:
    """``code`` (``--code`` packages) without repeats, each an import name not lagscope's."""
    for name in code:
        if not _PACKAGE.match(name):
            raise UsageError(
                f"--code {name!r} is not a package's import name; give one like 'mycompany.shared'"
            )
        if name.split(".")[0] == "lagscope":
            raise UsageError(
                f"--code {name!r}: lagscope's own code is never the user's; name a package of yours"
            )
    return tuple(dict.fromkeys(code))


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


Condition = tuple[str, str, str]  # (fault, flag, value)


def fault_conditions(
    faults: Sequence[str], given: Mapping[str, str | None]
) -> tuple[dict[str, str], tuple[Condition, ...]]:
    """The values the faults' conditions give the flags ``given`` leaves out (``None``):
    ``({flag: value}, ((fault, flag, value), ...))``.  An explicit flag wins; when two
    faults set one flag, the first named wins."""
    if not faults:
        return {}, ()
    from lagscope.target_apps.shop.faults import CATALOGUE

    values: dict[str, str] = {}
    applied: list[Condition] = []
    for fault in faults:
        for flag, value in CATALOGUE[fault].conditions:
            if given.get(flag) is None and flag not in values:
                values[flag] = value
                applied.append((fault, flag, value))
    return values, tuple(applied)


def safe_name(text: str) -> str:
    """``text`` usable in a file name (an import string's ``:`` and ``/`` replaced)."""
    return re.sub(r"[^\w.-]+", "_", text)


def default_out(app: str, scenario: str) -> Path:
    """``runs/<time>-<app>-<scenario>``: the name the CLI starts from when no --out is given
    (lagscope.runfiles.create_numbered adds ``-2``, ``-3``... when a run started in the same
    second has it)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{stamp}-{safe_name(app)}-{scenario}"


def check_positive(value: float, *, flag: str) -> None:
    if value <= 0:
        raise UsageError(f"{flag} must be greater than zero (got {value:g})")
