"""What a sweep will run: the matrix of server configurations and the search's limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any, TypeVar

from lagscope.harness.run import config as cfg
from lagscope.reports.rate_search import SearchLimits

from lagscope.errors import UsageError

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
