"""What a sweep will run: the matrix of server configurations and the search's limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, TypeVar

from lagscope.harness.run import config as cfg
from lagscope.reports.rate_search import SearchLimits

from lagscope import defaults
from lagscope.arrivals import parse_rate
from lagscope.errors import UsageError
from lagscope.units import parse_milliseconds

T = TypeVar("T")
_SERVERS: tuple[str, ...] = cfg.SERVERS
_LOOPS: tuple[str, ...] = cfg.LOOPS
STEP_OVERHEAD_S = 6.0  # start-up and shut-down of the servers and Locust around each step
DEFAULT_SLOS = ("p99<500ms", "errors<0.1%")


@dataclass(frozen=True, order=True)
class Point:
    """One server configuration of the sweep."""

    server: str
    loop: str
    threadpool: int | None
    workers: int

    @property
    def slug(self) -> str:
        tp = f"-tp{self.threadpool}" if self.threadpool is not None else ""
        return f"{self.server}-{self.loop}{tp}-w{self.workers}"

    @property
    def label(self) -> str:
        tp = f", {self.threadpool} threads" if self.threadpool is not None else ""
        return f"{self.workers} {self.server} worker(s), {self.loop}{tp}"


@dataclass(frozen=True, kw_only=True)
class SweepPlan:
    app: str
    scenario: str | None
    points: tuple[Point, ...]
    limits: SearchLimits
    step_s: float
    slos: tuple[str, ...] = DEFAULT_SLOS
    load_procs: int = 1
    faults: tuple[str, ...] = ()
    seed: int = 0
    # True: every step is its own `lagscope run` that starts and stops the servers (the
    # behaviour before targets were reused); False: a configuration's steps share them.
    restart_each_step: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def estimate_s(self) -> float:
        """Upper bound of the wall time: every point runs at most ``max_steps`` steps."""
        return len(self.points) * self.limits.max_steps * (self.step_s + STEP_OVERHEAD_S)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"] = [asdict(p) for p in self.points]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepPlan:
        return cls(
            app=data["app"],
            scenario=data["scenario"],
            points=tuple(Point(**p) for p in data["points"]),
            limits=SearchLimits(**data["limits"]),
            step_s=data["step_s"],
            slos=tuple(data["slos"]),
            load_procs=data["load_procs"],
            faults=tuple(data["faults"]),
            seed=data["seed"],
            restart_each_step=data.get("restart_each_step", True),  # older sweeps restarted
            extra=data.get("extra", {}),
        )


def parse_list(
    text: str, *, flag: str, cast: Callable[[str], T], allowed: tuple[T, ...] = ()
) -> list[T]:
    """``"1,2,4"`` -> ``[1, 2, 4]``; a bad item raises UsageError naming ``flag``."""
    items = []
    for raw in text.split(","):
        raw = raw.strip()
        try:
            item = cast(raw)
        except ValueError:
            raise UsageError(f"{flag}: {raw!r} is not valid; give a comma-separated list") from None
        if allowed and item not in allowed:
            choices = ", ".join(map(str, allowed))
            raise UsageError(f"{flag}: {raw!r} is not one of {choices}")
        items.append(item)
    if not items:
        raise UsageError(f"{flag} needs at least one value")
    return list(dict.fromkeys(items))


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def matrix(*, workers: str, servers: str, loops: str, threadpools: str | None) -> tuple[Point, ...]:
    """Every combination of the comma-separated flag values, in a stable order."""
    pools: list[int | None] = (
        list(parse_list(threadpools, flag="--threadpool", cast=_positive_int))
        if threadpools
        else [None]
    )
    return tuple(
        Point(server=s, loop=lp, threadpool=tp, workers=w)
        for s, lp, tp, w in product(
            parse_list(servers, flag="--server", cast=str, allowed=_SERVERS),
            parse_list(loops, flag="--loop", cast=str, allowed=_LOOPS),
            pools,
            parse_list(workers, flag="--workers", cast=_positive_int),
        )
    )


def step_config(plan: SweepPlan, point: Point, *, rate: float, out: Path) -> cfg.RunConfig:
    """The RunConfig of one step: what ``lagscope run`` makes of the flags a step with its
    own servers is given (``sweep.step_argv``), faults' conditions included."""
    given = {"--threadpool": None if point.threadpool is None else str(point.threadpool)}
    values, conditions = cfg.fault_conditions(plan.faults, given)

    def ms(flag: str, default: float) -> float:
        return parse_milliseconds(values[flag], what=flag) if flag in values else default

    threadpool = values.get("--threadpool")
    scenario, scenario_file = cfg.resolve_scenario(plan.scenario, app=plan.app)
    return cfg.RunConfig(
        app=plan.app,
        app_import=cfg.BUILTIN_APPS.get(plan.app, plan.app),  # checked when the plan was made
        scenario=scenario,
        scenario_file=scenario_file,
        users=None,
        spawn_rate=defaults.SPAWN_RATE,
        rate=parse_rate(f"{rate:g}"),
        duration_s=plan.step_s,
        workers=point.workers,
        server=point.server,  # type: ignore[arg-type]  # a SERVERS value (parse_list)
        loop=point.loop,  # type: ignore[arg-type]  # a LOOPS value
        threadpool=point.threadpool if threadpool is None else int(threadpool),
        faults=plan.faults,
        seed=plan.seed,
        out=out,
        downstream_latency_ms=ms("--downstream-latency", defaults.DOWNSTREAM_LATENCY_MS),
        downstream_stock_latency_ms=ms(
            "--downstream-stock-latency", defaults.DOWNSTREAM_STOCK_LATENCY_MS
        ),
        relay_latency_ms=ms("--relay-latency", defaults.RELAY_LATENCY_MS),
        conditions=conditions,
        slos=plan.slos,
        load_procs=plan.load_procs,
    )
