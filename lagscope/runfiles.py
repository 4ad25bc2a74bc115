"""The run directory: created once (never overwritten), with a shared timeline of events.

See docs/run-directory.md for every file and column.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lagscope import rundir
from lagscope.errors import UsageError
from lagscope.request_schema import SCHEMA


def check_new(path: Path) -> None:
    """Raise UsageError when ``path`` exists and is not an empty directory."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(
            f"run directory {path} already exists and is not empty; choose another --out"
        )


def create(path: Path) -> Path:
    """Create ``path`` as a new run directory; refuse one that exists and is not empty."""
    check_new(path)  # checked before the run starts too; again here, just before creating
    path.mkdir(parents=True, exist_ok=True)
    (path / rundir.LOGS).mkdir()
    return path


def log_event(run_dir: Path, event: str, *, source: str = "harness", **detail: Any) -> None:
    """Append one event to ``events.jsonl`` (written by the harness and the load generator)."""
    line = json.dumps({"t": time.time(), "source": source, "event": event, **detail})
    with open(run_dir / rundir.EVENTS, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def count_events(run_dir: Path, event: str) -> int:
    """How many ``event`` lines ``events.jsonl`` holds so far."""
    try:
        lines = (run_dir / rundir.EVENTS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if f'"event": "{event}"' in line)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def merge_request_parts(run_dir: Path) -> int:
    """Merge ``spool/requests-*.parquet`` into ``requests.parquet``; return the row count.

    Parts are deleted only after the merged file is in place, so an interruption at
    any point keeps every row somewhere readable.
    """
    spool = run_dir / rundir.SPOOL
    parts = sorted(spool.glob(rundir.REQUEST_PARTS)) if spool.is_dir() else []
    target = run_dir / rundir.REQUESTS
    tables = [pq.read_table(p) for p in parts]
    if target.exists():
        tables.insert(0, pq.read_table(target))
    table = SCHEMA.empty_table() if not tables else pa.concat_tables(tables).sort_by("t")
    tmp = run_dir / (rundir.REQUESTS + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(target)
    for part in parts:
        part.unlink()
    if spool.is_dir() and not any(spool.iterdir()):
        spool.rmdir()
    return int(table.num_rows)
