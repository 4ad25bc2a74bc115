"""What a game day shows while it runs: phase, RPS, P95/P99, loop lag, alert states.

``LiveFeed`` reads what the run has written so far (the load generator's request
spool parts, every worker's ``lag.csv``), incrementally; ``live_figures`` is a pure
function of those rows and the clock; ``render`` draws the figures with rich.

Alerts here are evaluated as Prometheus would see them: only seconds that are
settled (their requests flushed by the load generator, ``SETTLE_S`` ago) count.
The summary's alert timeline is recomputed afterwards from all the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from lagscope.reports.burnrate import alert_states
from lagscope.reports.gameday_file import GameDay
from lagscope.reports.sli import completion_times, sli_series
from rich.table import Table

from lagscope import rundir

SETTLE_S = 2.0  # spool parts are flushed every second; a request lands within ~2 s
RECENT_S = 5  # P95/P99 shown over the last settled seconds
_COLUMNS = ["t", "latency_ms", "ok", "intended_t", "method", "name"]


@dataclass
class LiveFeed:
    """Reads the run directory's growing files; each part or line is read once."""

    run_dir: Path
    _parts: dict[str, pd.DataFrame] = field(default_factory=dict)
    _lag_offsets: dict[Path, int] = field(default_factory=dict)
    _lag_rows: list[tuple[float, float]] = field(default_factory=list)

    def requests(self) -> pd.DataFrame:
        for part in sorted((self.run_dir / rundir.SPOOL).glob(rundir.REQUEST_PARTS)):
            if part.name not in self._parts:
                try:
                    table = pq.read_table(part)
                except (OSError, ValueError):  # merged away at the end, or half-written
                    continue
                names = [c for c in _COLUMNS if c in table.column_names]
                self._parts[part.name] = table.select(names).to_pandas()
        if not self._parts:
            return pd.DataFrame({"t": [], "latency_ms": [], "ok": []})
        return pd.concat(self._parts.values(), ignore_index=True)

    def lag(self) -> pd.DataFrame:
        for path in sorted(self.run_dir.glob(f"{rundir.WORKERS}/*/{rundir.LAG}")):
            offset = self._lag_offsets.get(path, 0)
            with open(path, encoding="utf-8") as f:
                f.seek(offset)
                chunk = f.read()
            complete = chunk[: chunk.rfind("\n") + 1]
            self._lag_offsets[path] = offset + len(complete.encode("utf-8"))
            for line in complete.splitlines():
                t, _, lag = line.partition(",")
                try:
                    self._lag_rows.append((float(t), float(lag)))
                except ValueError:
                    continue  # the header
        return pd.DataFrame(self._lag_rows, columns=list(rundir.LAG_COLUMNS))


@dataclass(frozen=True)
class LiveFigures:
    at: float  # seconds since the exercise started
    phase: str
    rps: float | None
    p95_ms: float | None
    p99_ms: float | None
    lag_max_ms: float | None
    alerts: dict[str, bool]  # name -> firing (settled seconds)


def current_phase(game: GameDay, at: float) -> str:
    started = [p.name for p in game.phases if p.at_s <= at]
    return started[-1] if started else game.phases[0].name


def live_figures(
    game: GameDay, requests: pd.DataFrame, lag: pd.DataFrame, *, t0: float, now: float
) -> LiveFigures:
    """The figures at ``now`` (unix s), from the rows read so far."""
    settled = int(max(0.0, now - t0 - SETTLE_S))
    done = completion_times(requests) - t0 if not requests.empty else np.array([])
    recent = requests[(done >= settled - RECENT_S) & (done < settled)] if settled else requests[:0]
    last_second = int(((done >= settled - 1) & (done < settled)).sum()) if settled else 0
    latency = recent["latency_ms"].to_numpy(dtype=float)
    lag_recent = lag[(lag["t"] >= now - 1.0)]["lag_ms"] if not lag.empty else pd.Series([])
    alerts = {}
    for rule in game.rules:
        objective = game.objective(rule.slo)
        if settled == 0:
            alerts[rule.name] = False
            continue
        series = sli_series(requests, objective, t0=t0, seconds=settled)
        alerts[rule.name] = bool(alert_states(rule, series, budget=objective.budget)[-1])
    return LiveFigures(
        at=now - t0,
        phase=current_phase(game, now - t0),
        rps=float(last_second) if settled else None,
        p95_ms=float(np.percentile(latency, 95)) if latency.size else None,
        p99_ms=float(np.percentile(latency, 99)) if latency.size else None,
        lag_max_ms=float(lag_recent.max()) if len(lag_recent) else None,
        alerts=alerts,
    )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def render(game: GameDay, figures: LiveFigures) -> Table:
    """One table: the exercise clock and phase, traffic, latency, loop lag, alert states."""
    table = Table(
        title=f"game day: {game.title}", title_justify="left", caption_justify="left",
        caption=f"rps: the last settled second; p95/p99: the last {RECENT_S} settled seconds "
        f"(settled: {SETTLE_S:g} s ago, once the load generator has flushed them)",
    )  # fmt: skip
    for header in ("t", "phase", "rps", "p95", "p99", "loop lag max", "alerts"):
        table.add_column(header, no_wrap=True)
    alerts = "  ".join(
        f"[bold red]{name} FIRING[/bold red]" if firing else f"[green]{name} ok[/green]"
        for name, firing in figures.alerts.items()
    )
    table.add_row(
        f"{figures.at:5.0f}s / {game.duration_s:g}s",
        figures.phase,
        "–" if figures.rps is None else f"{figures.rps:.0f}",
        _ms(figures.p95_ms),
        _ms(figures.p99_ms),
        _ms(figures.lag_max_ms),
        alerts or "none declared",
    )
    return table
