"""``lagscope gameday``: one exercise run like ``lagscope run``, with its timeline driven live.

The orchestrator runs the servers and the load as for any run; the ``Conductor``
here is ticked while the load goes.  It starts the exercise's clock when the load
generator reports ``load_start``, and at each phase's time switches faults through
the target's token-guarded admin endpoint (and/or reconfigures the downstream with
``PUT /_config``), without restarting anything.  Every phase start, every action and
every alert change seen live goes to ``events.jsonl``; the terminal shows a live
view.  The file itself is copied into the run directory (``gameday.toml``) so the
report can be rebuilt from the directory alone.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from lagscope.harness.run import config as cfg
from lagscope.harness.run import diskspace
from lagscope.harness.run.live_view import LiveFeed, live_figures, render
from lagscope.harness.run.orchestrator import Run
from lagscope.reports.gameday_file import GameDay, Phase
from rich.console import Console
from rich.live import Live

from lagscope import rundir, runfiles
from lagscope.arrivals import parse_rate
from lagscope.errors import UsageError

FILE_NAME = rundir.GAMEDAY_TOML  # the exercise, copied into the run directory
ACTION_TIMEOUT_S = 10.0
ACTION_ATTEMPTS = 5
ACTION_RETRY_PAUSE_S = 1.0
ADMIN_DEFAULT_PATH = "/_lagscope/faults"


def run_config(game: GameDay, *, out: Path | None, app: str | None = None) -> cfg.RunConfig:
    """The RunConfig of the exercise's load (raises UsageError for what cannot run).

    ``app`` (``--app``) replaces the file's ``[load] app``.  Every check runs before the
    game day's banner; errors name the file and the key.
    """
    if app is not None:
        game = dataclasses.replace(game, load=dataclasses.replace(game.load, app=app))
    load, where = game.load, f"{game.source}: "
    scenario, scenario_file = cfg.resolve_scenario(
        load.scenario, app=load.app, what=f"{where}[load] scenario"
    )
    faults = _check_faults(game)
    if any(p.downstream for p in game.phases) and load.app not in cfg.BUILTIN_APPS:
        raise UsageError(f"{where}downstream phases need the built-in app (app = 'shop')")
    chosen = out is not None
    out = out or cfg.default_out(load.app, f"gameday-{Path(game.source).stem}")
    if chosen:  # a default name already taken is numbered (create_numbered)
        runfiles.check_new(out)
    runfiles.check_writable(out)
    if app is not None:
        app_import = cfg.resolve_app(app, what="--app")
    else:
        try:
            app_import = cfg.resolve_app(load.app, what="[load] app", where=where)
        except UsageError as exc:
            if "cannot find module" not in str(exc):
                raise
            raise UsageError(f"{exc}; or name your app with --app module:attr") from exc
    config = cfg.RunConfig(
        app=load.app,
        app_import=app_import,
        scenario=scenario,
        scenario_file=scenario_file,
        **_load_model(game),
        duration_s=game.duration_s,
        workers=load.workers,
        faults=faults,
        seed=load.seed,
        out=out,
        downstream_latency_ms=load.downstream_latency_ms,
        # The probe's injector is on only for an exercise that injects.
        injector=any(p.inject is not None for p in game.phases),
    )
    diskspace.check_room(config)
    return config


def _check_faults(game: GameDay) -> tuple[str, ...]:
    """The faults on from the start, once every fault the file names is known to shop."""
    load, where = game.load, f"{game.source}: "
    switched = [p for p in game.phases if p.faults is not None]
    if (load.faults or switched) and load.app != "shop":
        raise UsageError(
            f"{where}faults ([load] faults, [[phase]] faults) are seeded in the built-in app "
            "only; set app = 'shop' in [load]"
        )
    at_start = cfg.resolve_faults(load.faults, app=load.app, what=f"{where}[load] faults")
    for phase in switched:
        what = f"{where}[[phase]] {phase.name}: faults"
        cfg.resolve_faults(phase.faults or (), app=load.app, what=what)
    if switched and importlib.util.find_spec("lagscope.target_apps.shop.admin") is None:
        raise UsageError(
            f"{where}the timeline switches faults, but this shop has no run-time "
            "fault switch (target_apps/shop/admin.py); use downstream phases instead"
        )
    return at_start


def _load_model(game: GameDay) -> dict[str, Any]:
    """Open model (``rate``: arrivals planned ahead, latency from each slot) when the file
    gives a rate, else closed (``users``)."""
    load = game.load
    common = {"load_procs": load.load_procs, "spawn_rate": load.spawn_rate}
    if load.rate is None:
        return {**common, "users": load.users}
    return {**common, "users": None, "rate": parse_rate(load.rate), "arrivals": load.arrivals}


def copy_file(game: GameDay) -> Callable[[Path], None]:
    """The ``prepare`` step: the exercise file goes into the run directory first."""

    def prepare(run_dir: Path) -> None:
        shutil.copyfile(game.source, run_dir / FILE_NAME)

    return prepare


def _console() -> Console:
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, width=130)


def _load_started(run_dir: Path, *, open_model: bool) -> float | None:
    """When the exercise's clock starts: the open model's plan start, else the load start."""
    events = run_dir / rundir.EVENTS
    if not events.exists():
        return None
    for line in events.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if open_model and event.get("event") == "plan_start":
            return float(event["start"])
        if not open_model and event.get("event") == "load_start":
            return float(event["t"])
    return None


class Conductor:
    """Applies the phases at their times and shows the live view (see module docstring)."""

    def __init__(self, game: GameDay, *, console: Console | None = None) -> None:
        # One client for every action, made now: a client's TLS set-up costs tenths of a
        # second, which a phase's first action would otherwise pay late.
        self.http = httpx.Client(timeout=ACTION_TIMEOUT_S)
        self.game = game
        self.console = console or _console()
        self.t0: float | None = None
        self.pending: list[Phase] = list(game.phases)
        self.feed: LiveFeed | None = None
        self.live: Live | None = None
        self.alerts: dict[str, bool] = {rule.name: False for rule in game.rules}
        self.next_view = 0.0

    def tick(self, run: Run) -> None:
        if self.t0 is None:
            self.t0 = _load_started(
                run.dir, open_model=getattr(run.config, "rate", None) is not None
            )
            if self.t0 is None:
                return
            self.feed = LiveFeed(run.dir)
            self.live = Live(console=self.console, auto_refresh=False, transient=False)
            self.live.start()
        now = time.time()
        while self.pending and self.t0 + self.pending[0].at_s <= now:
            self._start_phase(run, self.pending.pop(0))
        if now >= self.next_view:
            self.next_view = now + 1.0
            self._refresh(run, now)

    def close(self, run: Run) -> None:
        if self.live is not None:
            self._refresh(run, time.time())
            self.live.stop()
            self.live = None
            self.console.print()
        self.http.close()
        started = [p.name for p in self.game.phases if p not in self.pending]
        runfiles.log_event(run.dir, "gameday_end", phases_started=started)

    def _start_phase(self, run: Run, phase: Phase) -> None:
        assert self.t0 is not None
        offset = time.time() - self.t0
        runfiles.log_event(
            run.dir, "phase_start", phase=phase.name, role=phase.role, planned_at=phase.at_s,
            at=round(offset, 3), actions=phase.describe(),
        )  # fmt: skip
        what = "; ".join(phase.describe()) or "no change"
        self.console.print(
            f"[bold cyan]▶ {offset:5.1f}s  phase {phase.name}[/bold cyan]"
            + (f" ({phase.role})" if phase.role else "") + f" — {what}",
            highlight=False,
        )  # fmt: skip
        for action, call in self._actions(run, phase):
            try:
                call()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                runfiles.log_event(run.dir, "phase_action_failed", phase=phase.name,
                                 action=action, error=f"{type(exc).__name__}: {exc}")  # fmt: skip
                self.console.print(
                    f"[red]  {action} failed: {exc}[/red]", highlight=False, markup=True
                )
            else:
                runfiles.log_event(run.dir, "phase_action", phase=phase.name, action=action)

    def _actions(self, run: Run, phase: Phase) -> list[tuple[str, Callable[[], None]]]:
        actions: list[tuple[str, Callable[[], None]]] = []
        if phase.faults is not None:
            wanted = list(phase.faults)
            actions.append(
                (f"faults on: {wanted}", lambda: switch_faults(run, wanted, client=self.http))
            )
        if phase.inject is not None:
            tables = [i.to_user() for i in phase.inject]
            said = "; ".join(i.describe() for i in phase.inject) or "cleared"
            actions.append((f"inject: {said}", lambda: inject(run, tables, client=self.http)))
        if phase.downstream:
            change = dict(phase.downstream)
            actions.append(
                (
                    f"downstream {change}",
                    lambda: reconfigure_downstream(run, change, client=self.http),
                )
            )
        return actions

    def _refresh(self, run: Run, now: float) -> None:
        if self.feed is None or self.live is None or self.t0 is None:
            return
        figures = live_figures(
            self.game, self.feed.requests(), self.feed.lag(), t0=self.t0, now=now
        )
        for name, firing in figures.alerts.items():
            if firing != self.alerts[name]:
                self.alerts[name] = firing
                runfiles.log_event(run.dir, "alert_seen_live", alert=name, firing=firing,
                                 at=round(figures.at, 3))  # fmt: skip
        self.live.update(render(self.game, figures), refresh=True)


def _with_retries(call: Callable[[], object], *, on_retry: Callable[[str], None]) -> None:
    """Retry a switch the service failed (5xx) or did not answer, as an operator would.

    A service in trouble may fail its admin call too (shop's connection-leak fix closes
    the leaked sessions, which fails for a session still waiting for a connection).
    """
    for attempt in range(1, ACTION_ATTEMPTS + 1):
        try:
            call()
            return
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code < 500 or attempt == ACTION_ATTEMPTS:
                raise
            on_retry(f"HTTP {exc.response.status_code}")
        except httpx.TransportError as exc:
            if attempt == ACTION_ATTEMPTS:
                raise
            on_retry(f"{type(exc).__name__}: {exc}")
        time.sleep(ACTION_RETRY_PAUSE_S)


def _retry_logger(run: Run, action: str) -> Callable[[str], None]:
    return lambda error: runfiles.log_event(
        run.dir, "phase_action_retry", action=action, error=error
    )


def switch_faults(run: Run, enabled: list[str], *, client: httpx.Client) -> None:
    """Switch exactly ``enabled`` on in the target, through its token-guarded admin endpoint."""
    admin = json.loads((run.dir / rundir.RUN_JSON).read_text(encoding="utf-8")).get("admin") or {}
    token = admin.get("token")
    if not token:
        raise ValueError("this run has no admin token: the target cannot switch faults at run time")
    url = run.urls["target"] + admin.get("path", ADMIN_DEFAULT_PATH)
    headers = {"Authorization": f"Bearer {token}"}
    _with_retries(
        lambda: client.put(
            url, json={"enabled": enabled}, headers=headers, timeout=ACTION_TIMEOUT_S
        ).raise_for_status(),
        on_retry=_retry_logger(run, f"faults on: {enabled}"),
    )


def inject(run: Run, faults: list[dict[str, Any]], *, client: httpx.Client) -> None:
    """Inject exactly ``faults`` into every worker, through the probe's token-guarded path."""
    admin = json.loads((run.dir / rundir.RUN_JSON).read_text(encoding="utf-8")).get("admin") or {}
    if not admin.get("token") or not admin.get("inject_path"):
        raise ValueError("this run's probe has no injector: it cannot inject faults")
    url = run.urls["target"] + admin["inject_path"]
    headers = {"Authorization": f"Bearer {admin['token']}"}
    _with_retries(
        lambda: client.put(
            url, json={"faults": faults}, headers=headers, timeout=ACTION_TIMEOUT_S
        ).raise_for_status(),
        on_retry=_retry_logger(run, f"inject: {faults}"),
    )


def reconfigure_downstream(run: Run, change: dict[str, float], *, client: httpx.Client) -> None:
    """Change the downstream's behaviour (``latency_ms``, ``error_rate``) keeping the rest."""
    url = run.urls["downstream"] + "/_config"
    current = client.get(url).raise_for_status().json()
    _with_retries(
        lambda: client.put(
            url, json={**current, **change}, timeout=ACTION_TIMEOUT_S
        ).raise_for_status(),
        on_retry=_retry_logger(run, f"downstream {change}"),
    )
