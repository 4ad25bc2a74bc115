"""Game-day files (``scenarios/gamedays/*.toml``): parsing and validation into a GameDay.

A file holds the load, the SLOs, the burn-rate alert rules, a timeline of phases and
the expectations; see ``scenarios/gamedays/`` for examples and README's "Game days".
Every mistake is one UsageError line that names the file and the key.

Two clocks: the **timeline** (``at``) is in seconds of the exercise; alert windows and
the SLO period are written in production time (``1h``, ``5m``, ``30d``) and divided by
``time_scale`` (60: one exercise second stands for a production minute).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lagscope.reports.burnrate import BurnRateRule
from lagscope.reports.expectations import Expectation, parse_expectation
from lagscope.reports.sli import Objective, parse_objective

from lagscope import defaults
from lagscope.errors import UsageError
from lagscope.injection import Injection, from_mapping
from lagscope.units import parse_milliseconds, parse_seconds

Role = Literal["inject", "fix"]
_NAME = re.compile(r"^[\w.-]+$")
_DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*d\s*$")
MAX_DURATION_S = 300.0  # an exercise stays under five minutes
_DOWNSTREAM_KEYS = {"latency": "latency_ms", "error_rate": "error_rate"}


@dataclass(frozen=True, kw_only=True)
class Phase:
    name: str
    at_s: float  # seconds from the exercise's start
    role: Role | None = None
    faults: tuple[str, ...] | None = None  # exactly these on from here; None: unchanged
    downstream: dict[str, float] | None = None  # latency_ms / error_rate of the downstream
    inject: tuple[Injection, ...] | None = None  # exactly these injected from here; None: unchanged

    def describe(self) -> list[str]:
        """The phase's actions in words, e.g. ``faults on: blocking_io``."""
        actions = []
        if self.faults is not None:
            actions.append(f"faults on: {', '.join(self.faults)}" if self.faults else "faults off")
        if self.inject is not None:
            injected = "; ".join(i.describe() for i in self.inject)
            actions.append(f"inject: {injected}" if self.inject else "injections cleared")
        if self.downstream:
            actions.append(
                "downstream " + " ".join(f"{k}={v:g}" for k, v in sorted(self.downstream.items()))
            )
        return actions


@dataclass(frozen=True, kw_only=True)
class Load:
    app: str = "shop"
    scenario: str | None = None
    rate: str | None = None  # open model: "40" or a ramp "20:80"
    users: int = defaults.USERS  # closed model, when the harness has no rate mode
    spawn_rate: float = defaults.SPAWN_RATE
    workers: int = 1
    faults: tuple[str, ...] = ()  # on from the start
    downstream_latency_ms: float = defaults.DOWNSTREAM_LATENCY_MS
    seed: int = 0
    arrivals: Literal["constant", "poisson"] = "constant"  # open model: spacing of arrivals
    load_procs: int = 1  # Locust processes sharing the load


@dataclass(frozen=True, kw_only=True)
class GameDay:
    source: str  # the file it came from
    title: str
    narrative: str
    load: Load
    objectives: tuple[Objective, ...]
    rules: tuple[BurnRateRule, ...]
    phases: tuple[Phase, ...]  # in time order; the last one is "end"
    expectations: tuple[Expectation, ...] = ()
    time_scale: float = 1.0
    period_s: float = 3600.0  # the SLO period, in exercise seconds
    recovery_window_s: int = 5

    @property
    def duration_s(self) -> float:
        return self.phases[-1].at_s

    def objective(self, name: str) -> Objective:
        return next(o for o in self.objectives if o.name == name)


class _Reader:
    """Reads typed keys out of one table of the file, failing with one precise line."""

    def __init__(self, source: str, table: dict[str, Any], where: str) -> None:
        self.source, self.table, self.where = source, table, where

    def fail(self, message: str) -> UsageError:
        return UsageError(f"{self.source}: {self.where}{message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.table.get(key, default)
        if (
            value is not None
            and not isinstance(value, kind)
            or isinstance(value, bool)
            and (kind is not bool)
        ):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(f"{key} must be a {names} (got {value!r})")
        return value

    def require(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.table:
            raise self.fail(f"{key} is missing")
        return self.get(key, kind)

    def seconds(self, key: str, *, scale: float = 1.0, zero_ok: bool = False) -> float:
        text = str(self.require(key, (str, int, float)))
        if zero_ok and re.fullmatch(r"\s*0+(\.0*)?\s*(ms|s|m|h|d)?\s*", text):
            return 0.0
        days = _DAYS.match(text)
        what = f"{self.source}: {self.where}{key}"
        value = float(days.group(1)) * 86400.0 if days else parse_seconds(text, what=what)
        return value / scale

    def unknown(self, known: set[str]) -> None:
        extra = sorted(set(self.table) - known)
        if extra:
            raise self.fail(f"unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")


def _name(r: _Reader, key: str) -> str:
    value: str = r.require(key, str)
    if not _NAME.match(value):
        raise r.fail(f"{key} {value!r} must be one word (letters, digits, '-', '_', '.')")
    return value


def _load(source: str, table: dict[str, Any]) -> Load:
    r = _Reader(source, table, "[load] ")
    r.unknown({"app", "scenario", "rate", "users", "spawn_rate", "workers", "faults",
               "downstream_latency", "seed", "arrivals", "load_procs"})  # fmt: skip
    rate = r.get("rate", (str, int, float))
    users = r.get("users", int, 20)
    workers = r.get("workers", int, 1)
    load_procs = r.get("load_procs", int, 1)
    arrivals = r.get("arrivals", str, "constant")
    if arrivals not in ("constant", "poisson"):
        raise r.fail(f"arrivals {arrivals!r} must be 'constant' or 'poisson'")
    for key, value in (("users", users), ("workers", workers), ("load_procs", load_procs)):
        if value <= 0:
            raise r.fail(f"{key} must be greater than zero (got {value})")
    if rate is not None and not re.fullmatch(r"\d+(\.\d+)?(:\d+(\.\d+)?)?", str(rate)):
        raise r.fail(f"rate {rate!r} must be requests/s, e.g. 40, or a ramp START:END, e.g. 20:80")
    latency = r.get("downstream_latency", str, f"{defaults.DOWNSTREAM_LATENCY_MS:g}ms")
    return Load(
        app=r.get("app", str, "shop"),
        scenario=r.get("scenario", str),
        rate=None if rate is None else str(rate),
        users=users,
        spawn_rate=float(r.get("spawn_rate", (int, float), defaults.SPAWN_RATE)),
        workers=workers,
        faults=tuple(_string_list(r, "faults")),
        downstream_latency_ms=parse_milliseconds(
            latency, what=f"{source}: [load] downstream_latency"
        ),
        seed=r.get("seed", int, 0),
        arrivals=arrivals,
        load_procs=load_procs,
    )


def _string_list(r: _Reader, key: str) -> list[str]:
    value = r.get(key, list, [])
    if not all(isinstance(v, str) for v in value):
        raise r.fail(f"{key} must be a list of strings (got {value!r})")
    return list(value)


def _objective(r: _Reader, name: str, value: Any) -> Objective:
    """``NAME = "p99<300ms"`` or ``NAME = { objective = "...", endpoints = ["GET /x"] }``."""
    forms = 'an SLO is NAME = "p99<300ms" or NAME = { objective = "...", endpoints = [...] }'
    endpoints: tuple[str, ...] = ()
    if isinstance(value, dict):
        inner = _Reader(r.source, value, f"[slo] {name}: ")
        inner.unknown({"objective", "endpoints"})
        endpoints = tuple(_string_list(inner, "endpoints"))
        value = inner.require("objective", str)
    if not isinstance(value, str) or not _NAME.match(name):
        raise r.fail(f"{name} = {value!r}: {forms}")
    try:
        return parse_objective(value, name=name, endpoints=endpoints)
    except UsageError as exc:
        raise UsageError(f"{r.source}: [slo] {exc}") from exc


def _objectives(
    source: str, table: dict[str, Any]
) -> tuple[tuple[Objective, ...], dict[str, float]]:
    r = _Reader(source, table, "[slo] ")
    settings = {"time_scale", "period", "recovery_window"}
    scale = float(r.get("time_scale", (int, float), 1))
    if scale <= 0:
        raise r.fail(f"time_scale must be greater than zero (got {scale:g})")
    period = r.seconds("period", scale=scale) if "period" in table else 3600.0
    recovery = r.seconds("recovery_window") if "recovery_window" in table else 5.0
    objectives = []
    for name, value in table.items():
        if name in settings:
            continue
        objectives.append(_objective(r, name, value))
    if not objectives:
        raise r.fail('declares no SLO; add e.g. latency = "p99<300ms"')
    settings_out = {"time_scale": scale, "period_s": period, "recovery_window_s": recovery}
    return tuple(objectives), settings_out


def _rule(
    source: str, index: int, table: dict[str, Any], *, scale: float, slos: set[str]
) -> BurnRateRule:
    r = _Reader(source, table, f"[[alert]] #{index + 1} ")
    r.unknown({"name", "slo", "long_window", "short_window", "burn_rate", "for", "severity"})
    name = _name(r, "name")
    r.where = f"[[alert]] {name}: "
    slo = _name(r, "slo")
    if slo not in slos:
        raise r.fail(f"slo {slo!r} is not declared in [slo] ({', '.join(sorted(slos))})")
    windows = {}
    for key in ("long_window", "short_window"):
        exact = r.seconds(key, scale=scale)
        if exact < 1.0:
            raise r.fail(
                f"{key} is {exact:.3g} s once scaled by time_scale {scale:g}; make it >= 1 s"
            )
        windows[key] = int(round(exact))
    if windows["short_window"] > windows["long_window"]:
        raise r.fail("short_window must not be longer than long_window")
    factor = r.require("burn_rate", (int, float))
    if factor <= 0:
        raise r.fail(f"burn_rate must be greater than zero (got {factor})")
    severity = r.get("severity", str, "page")
    if severity not in ("page", "ticket"):
        raise r.fail(f"severity {severity!r} must be 'page' or 'ticket'")
    for_s = int(round(r.seconds("for", scale=scale, zero_ok=True))) if "for" in table else 0
    return BurnRateRule(
        name=name, slo=slo, long_s=windows["long_window"], short_s=windows["short_window"],
        factor=float(factor), for_s=for_s, severity=severity,
    )  # fmt: skip


def _phase(source: str, index: int, table: dict[str, Any]) -> Phase:
    r = _Reader(source, table, f"[[phase]] #{index + 1} ")
    r.unknown({"name", "at", "role", "faults", "downstream", "inject", "clear"})
    name = _name(r, "name")
    r.where = f"[[phase]] {name}: "
    role = r.get("role", str)
    if role not in (None, "inject", "fix"):
        raise r.fail(f"role {role!r} must be 'inject' or 'fix'")
    faults = tuple(_string_list(r, "faults")) if "faults" in table else None
    downstream = None
    if "downstream" in table:
        given = r.get("downstream", dict)
        unknown = sorted(set(given) - _DOWNSTREAM_KEYS.keys())
        if unknown:
            raise r.fail(f"downstream key {unknown[0]!r} is unknown (latency, error_rate)")
        downstream = {}
        if "latency" in given:
            downstream["latency_ms"] = parse_milliseconds(
                str(given["latency"]), what=f"{source}: {name} downstream.latency"
            )
        if "error_rate" in given:
            rate = given["error_rate"]
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise r.fail(f"downstream.error_rate must be a number in 0..1 (got {rate!r})")
            downstream["error_rate"] = float(rate)
    return Phase(
        name=name,
        at_s=r.seconds("at", zero_ok=True),
        role=role,
        faults=faults,
        downstream=downstream,
        inject=_inject(r),
    )


def _inject(r: _Reader) -> tuple[Injection, ...] | None:
    """``inject = [{ kind = "...", ... }, ...]`` (exactly these from here; [] clears them all)
    or ``clear = true``; None when the phase says neither."""
    clear = r.get("clear", bool, False)
    if "inject" not in r.table:
        return () if clear else None
    if clear:
        raise r.fail("clear = true and inject together: give one (inject = [] clears too)")
    tables = r.get("inject", list)
    found = []
    for n, table in enumerate(tables, 1):
        where = f"{r.source}: {r.where}inject #{n}"
        if not isinstance(table, dict):
            raise UsageError(f'{where}: expected a table like {{ kind = "loop_block", ... }}')
        found.append(from_mapping(table, where=where))
    return tuple(dict.fromkeys(found))


def _check_timeline(source: str, phases: list[Phase]) -> None:
    where = f"{source}: [[phase]] "
    if len(phases) < 2:
        raise UsageError(f"{where}needs at least two phases: a start at 0s and an 'end'")
    if phases[0].at_s != 0:
        raise UsageError(f"{where}the first phase must start at 0s (it is at {phases[0].at_s:g}s)")
    names = [p.name for p in phases]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise UsageError(f"{where}{duplicate!r} appears twice; name each phase once")
    for before, after in zip(phases, phases[1:], strict=False):
        if after.at_s <= before.at_s:
            raise UsageError(
                f"{where}{after.name} at {after.at_s:g}s must come after {before.name}"
            )
    end = phases[-1]
    if (
        end.name != "end" or end.faults is not None or end.downstream or end.role
        or end.inject is not None
    ):  # fmt: skip
        raise UsageError(
            f'{where}the last phase must be name = "end" with no actions (its at is the length)'
        )
    if end.at_s > MAX_DURATION_S:
        raise UsageError(
            f"{where}end at {end.at_s:g}s: a game day lasts at most {MAX_DURATION_S:g}s"
        )
    for role in ("inject", "fix"):
        if sum(p.role == role for p in phases) > 1:
            raise UsageError(f"{where}only one phase may have role = {role!r}")
    roles = [p.role for p in phases if p.role]
    if roles == ["fix", "inject"]:
        raise UsageError(f"{where}the 'fix' phase must come after the 'inject' phase")


def _check_expectations(source: str, game: GameDay) -> None:
    alerts = {r.name for r in game.rules}
    slos = {o.name for o in game.objectives}
    phases = {p.name for p in game.phases}
    for e in game.expectations:
        if e.kind == "page_within":
            if not any(r.severity == "page" for r in game.rules):
                raise UsageError(f"{source}: expect {e.text!r}: no alert has severity 'page'")
            known = {"page"}
        else:
            known = alerts if e.about_alert else slos
        what = "alert" if e.about_alert else "slo"
        if e.subject not in known:
            names = ", ".join(sorted(known))
            raise UsageError(
                f"{source}: expect {e.text!r}: no {what} named {e.subject!r} ({names})"
            )
        if e.phase is not None and e.phase not in phases:
            names = ", ".join(sorted(phases))
            raise UsageError(f"{source}: expect {e.text!r}: no phase named {e.phase!r} ({names})")


def parse_gameday(text: str, *, source: str) -> GameDay:
    """The game day ``text`` describes (``source`` names it in errors); raise UsageError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML ({exc})") from exc
    top = _Reader(source, data, "")
    top.unknown({"title", "narrative", "expect", "load", "slo", "alert", "phase"})
    objectives, settings = _objectives(source, top.require("slo", dict))
    slos = {o.name for o in objectives}
    rules = [
        _rule(source, i, t, scale=settings["time_scale"], slos=slos)
        for i, t in enumerate(top.get("alert", list, []))
    ]
    if len({r.name for r in rules}) != len(rules):
        raise UsageError(f"{source}: [[alert]] names must be unique")
    phases = [_phase(source, i, t) for i, t in enumerate(top.require("phase", list))]
    _check_timeline(source, phases)
    expectations = []
    for raw in _string_list(top, "expect"):
        try:
            expectations.append(parse_expectation(raw))
        except UsageError as exc:
            raise UsageError(f"{source}: {exc}") from exc
    game = GameDay(
        source=source,
        title=top.require("title", str),
        narrative=top.get("narrative", str, "").strip(),
        load=_load(source, top.get("load", dict, {})),
        objectives=objectives,
        rules=tuple(rules),
        phases=tuple(phases),
        expectations=tuple(expectations),
        time_scale=settings["time_scale"],
        period_s=settings["period_s"],
        recovery_window_s=max(1, round(settings["recovery_window_s"])),
    )
    _check_expectations(source, game)
    return game


def load_gameday(path: Path) -> GameDay:
    """Read and validate the game-day file at ``path``."""
    if not path.is_file():
        raise UsageError(
            f"game-day file {path} does not exist; 'lagscope gameday --list' lists the "
            "built-in exercises, which run by name"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"game-day file {path} cannot be read ({exc})") from exc
    return parse_gameday(text, source=str(path))
