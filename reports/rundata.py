"""Loading a run directory into pandas: the only module of ``reports`` that reads files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from lagscope import rundir
from lagscope.errors import RunDataError
from lagscope.openapi_plan import Plan, read_plan
from lagscope.request_schema import SCHEMA

STALL_COLUMNS = list(rundir.STALL_COLUMNS)


@dataclass(frozen=True)
class RunData:
    """Everything a run collected, as data frames (empty frames where nothing was recorded)."""

    dir: Path
    run: dict[str, Any]
    events: pd.DataFrame  # t, source, event, ...
    requests: pd.DataFrame  # see lagscope.request_schema
    lag: pd.DataFrame  # pid, t, lag_ms
    stalls: pd.DataFrame  # STALL_COLUMNS
    resources: pd.DataFrame  # t, role, pid, ppid, name, rss_mb, cpu_pct, threads, fds, connections
    workers: list[dict[str, Any]]
    gauges: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"t": [], "pid": []}))
    gc: pd.DataFrame = field(default_factory=lambda: empty_gc())  # pid, GC_COLUMNS
    # error-bodies.jsonl: a sample of 4xx bodies (ERROR_BODY_COLUMNS)
    error_bodies: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(rundir.ERROR_BODY_COLUMNS))
    )
    gameday_text: str | None = None  # gameday.toml: the exercise a `lagscope gameday` ran
    # What the probe's injector applied, every worker's injected.jsonl (INJECTED_COLUMNS).
    injections: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(rundir.INJECTED_COLUMNS))
    )
    target_log: str | None = None  # the last non-blank line of logs/target.log
    # Every worker's exceptions.json: the exceptions that escaped the app (pid, EXCEPTION_COLUMNS).
    exceptions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["pid", *rundir.EXCEPTION_COLUMNS])
    )
    openapi_plan: Plan | None = None  # the openapi scenario's requests (lagscope.openapi_plan)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
    return rows


def _read_requests(run_dir: Path) -> pd.DataFrame:
    merged = run_dir / rundir.REQUESTS
    files = [merged] if merged.exists() else []
    files += sorted((run_dir / rundir.SPOOL).glob(rundir.REQUEST_PARTS))
    if not files:
        return SCHEMA.empty_table().to_pandas()
    frames = [pq.read_table(f).to_pandas() for f in files]
    return pd.concat(frames, ignore_index=True).sort_values("t", ignore_index=True)


def _read_workers(run_dir: Path) -> tuple[list[dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    metas: list[dict[str, Any]] = []
    lags: list[pd.DataFrame] = []
    stalls: list[dict[str, Any]] = []
    for worker in sorted((run_dir / rundir.WORKERS).glob("*")):
        pid = int(worker.name)
        meta = worker / rundir.META
        if meta.exists():
            metas.append(json.loads(meta.read_text(encoding="utf-8")))
        lag_file = worker / rundir.LAG
        if lag_file.exists() and lag_file.stat().st_size > 0:
            lag = pd.read_csv(lag_file, on_bad_lines="skip").dropna()
            lags.append(lag.assign(pid=pid))
        stalls.extend({"pid": pid, **row} for row in _read_jsonl(worker / rundir.STALLS))
    lag_frame = (
        pd.concat(lags, ignore_index=True)
        if lags
        else pd.DataFrame({"t": pd.Series(dtype=float), "lag_ms": pd.Series(dtype=float)})
    )
    if "pid" not in lag_frame:
        lag_frame["pid"] = pd.Series(dtype=int)
    stall_frame = pd.DataFrame(stalls, columns=STALL_COLUMNS)
    return metas, lag_frame[["pid", "t", "lag_ms"]], stall_frame


def _read_gauges(run_dir: Path) -> pd.DataFrame:
    """Every worker's ``gauges.csv`` (t plus whatever gauge columns it has), with ``pid``."""
    frames = []
    for path in sorted((run_dir / rundir.WORKERS).glob(f"*/{rundir.GAUGES}")):
        if path.stat().st_size == 0:
            continue
        frame = pd.read_csv(path, on_bad_lines="skip", keep_default_na=False, na_values=[""])
        if "t" in frame:
            frame["t"] = pd.to_numeric(frame["t"], errors="coerce")
            frames.append(frame.dropna(subset=["t"]).assign(pid=int(path.parent.name)))
    if not frames:
        return pd.DataFrame({"t": pd.Series(dtype=float), "pid": pd.Series(dtype=int)})
    return pd.concat(frames, ignore_index=True)


def _read_injections(run_dir: Path) -> pd.DataFrame:
    """Every worker's ``injected.jsonl``, with ``pid``, in time order."""
    rows = [
        {"pid": int(worker.name), **row}
        for worker in sorted((run_dir / rundir.WORKERS).glob("*"))
        if worker.name.isdigit()
        for row in _read_jsonl(worker / rundir.INJECTED)
    ]
    frame = pd.DataFrame(rows, columns=list(rundir.INJECTED_COLUMNS))
    return frame.sort_values("t", ignore_index=True) if rows else frame


def _read_exceptions(run_dir: Path) -> pd.DataFrame:
    """Every worker's ``exceptions.json`` kinds, with ``pid``; none before a worker's first
    (or in a run of an earlier probe).  A file that cannot be read counts for nothing."""
    rows = []
    for path in sorted((run_dir / rundir.WORKERS).glob(f"*/{rundir.EXCEPTIONS}")):
        try:
            kinds = json.loads(path.read_text(encoding="utf-8")).get("kinds", [])
        except (OSError, ValueError, AttributeError):
            continue
        rows += [{"pid": int(path.parent.name), **k} for k in kinds if isinstance(k, dict)]
    return pd.DataFrame(rows, columns=["pid", *rundir.EXCEPTION_COLUMNS])


GC_TEXT = ("site",)  # gc.csv's text columns; the others are numbers


def empty_gc() -> pd.DataFrame:
    return pd.DataFrame({"pid": pd.Series(dtype=int), **{
        c: pd.Series(dtype=object if c in GC_TEXT else float) for c in rundir.GC_COLUMNS
    }})  # fmt: skip


def _read_gc(run_dir: Path) -> pd.DataFrame:
    """Every worker's ``gc.csv`` (one row per collection), with ``pid``; an older run has none."""
    frames = []
    for path in sorted((run_dir / rundir.WORKERS).glob(f"*/{rundir.GC}")):
        if path.stat().st_size == 0:
            continue
        frame = pd.read_csv(path, on_bad_lines="skip", dtype={"site": str})
        if "cpu_ms" not in frame:  # an early gc.csv: pauses are then judged on duration alone
            frame["cpu_ms"] = float("nan")
        # an earlier gc.csv has none: no collection's line was noted
        frame["site"] = frame["site"].fillna("") if "site" in frame else ""
        if set(rundir.GC_COLUMNS) <= set(frame.columns):
            numbers = [c for c in rundir.GC_COLUMNS if c not in GC_TEXT]
            frame = frame[list(rundir.GC_COLUMNS)]
            frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce")
            frame = frame.dropna(subset=[c for c in numbers if c != "cpu_ms"])
            frames.append(frame.assign(pid=int(path.parent.name)))
    if not frames:
        return empty_gc()
    return pd.concat(frames, ignore_index=True)[["pid", *rundir.GC_COLUMNS]]


def _sweep_message(path: Path) -> str:
    """What to open instead of a sweep directory: its page, and its steps' run directories."""
    page = path / rundir.SWEEP_HTML
    results = (
        f"its results are in {page}"
        if page.is_file()
        else f"its results page is written when it ends (lagscope sweep --resume {path})"
    )
    steps = sorted(p.parent for p in path.glob(f"points/*/*/{rundir.RUN_JSON}"))
    example = f", e.g. lagscope report {steps[0]}" if steps else ""
    return (
        f"{path} is a sweep directory, not a run: {results}; each of its steps is a run "
        f"directory under {path / 'points'}/<configuration>/<NN>-<rate>rps/{example}"
    )


LOG_LINE_CHARS = 200


def _last_log_line(path: Path) -> str | None:
    """The last non-blank line of a log (cut to LOG_LINE_CHARS), None when there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:LOG_LINE_CHARS] if lines else None


def read_run_json(path: Path) -> dict[str, Any]:
    """``run.json`` of the run directory ``path``; RunDataError if it is not one (saying
    what to open instead when it is a sweep)."""
    run_json = path / rundir.RUN_JSON
    if not run_json.is_file():
        if (path / rundir.SWEEP_JSON).is_file():
            raise RunDataError(_sweep_message(path))
        raise RunDataError(f"{path} is not a lagscope run directory (no run.json)")
    try:
        run: dict[str, Any] = json.loads(run_json.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunDataError(f"{run_json} is not valid JSON ({exc})") from exc
    return run


def load_run(run_dir: str | Path) -> RunData:
    """Read the run directory ``run_dir``; raise RunDataError if it is not one."""
    path = Path(run_dir)
    run = read_run_json(path)
    events = pd.DataFrame(_read_jsonl(path / rundir.EVENTS))
    if events.empty:
        events = pd.DataFrame(columns=list(rundir.EVENT_COLUMNS))
    resources_file = path / rundir.RESOURCES
    resources = (
        pd.read_csv(resources_file, on_bad_lines="skip")
        if resources_file.exists()
        else pd.DataFrame(columns=list(rundir.RESOURCE_COLUMNS))
    )
    workers, lag, stalls = _read_workers(path)
    gameday = path / rundir.GAMEDAY_TOML
    return RunData(
        dir=path,
        run=run,
        events=events,
        requests=_read_requests(path),
        lag=lag,
        stalls=stalls,
        resources=resources,
        workers=workers,
        gauges=_read_gauges(path),
        gc=_read_gc(path),
        error_bodies=pd.DataFrame(
            _read_jsonl(path / rundir.ERROR_BODIES), columns=list(rundir.ERROR_BODY_COLUMNS)
        ),
        gameday_text=gameday.read_text(encoding="utf-8") if gameday.is_file() else None,
        injections=_read_injections(path),
        exceptions=_read_exceptions(path),
        target_log=_last_log_line(path / rundir.LOGS / rundir.TARGET_LOG),
        openapi_plan=_read_plan(path / rundir.OPENAPI_PLAN),
    )


def _read_plan(path: Path) -> Plan | None:
    if not path.is_file():
        return None
    try:
        return read_plan(path)
    except (ValueError, OSError) as exc:
        raise RunDataError(f"{path} cannot be read ({exc})") from exc
