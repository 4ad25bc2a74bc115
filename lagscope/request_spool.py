"""The spool of request rows: the parts the load generator writes under ``spool/``, counted
while a run goes and merged into ``requests.parquet`` when it ends (pyarrow is imported
here, not in ``runfiles``, which the command line imports before anything heavy)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lagscope import rundir
from lagscope.request_schema import SCHEMA
from lagscope.runfiles import write_failed


def spooled_rows(run_dir: Path) -> int:
    """Rows in ``requests.parquet`` and the readable parts of ``spool/`` (footers only)."""
    files = [
        run_dir / rundir.REQUESTS,
        *sorted((run_dir / rundir.SPOOL).glob(rundir.REQUEST_PARTS)),
    ]
    rows = 0
    for path in files:
        with contextlib.suppress(OSError, pa.ArrowException):
            rows += pq.read_metadata(path).num_rows
    return rows


def merge_request_parts(run_dir: Path) -> int:
    """Merge ``spool/requests-*.parquet`` into ``requests.parquet``; return the row count.

    Parts are deleted only after the merged file is in place, so an interruption at
    any point keeps every row somewhere readable; a merge that cannot be written (a full
    disk) leaves the parts as they were and raises RunDirError.  Unfinished parts (a
    ``.tmp`` whose writer was killed or ran out of space) are never read, and go.
    """
    spool = run_dir / rundir.SPOOL
    parts = sorted(spool.glob(rundir.REQUEST_PARTS)) if spool.is_dir() else []
    target = run_dir / rundir.REQUESTS
    tables = [pq.read_table(p) for p in parts]
    if target.exists():
        tables.insert(0, pq.read_table(target))
    table = SCHEMA.empty_table() if not tables else pa.concat_tables(tables).sort_by("t")
    tmp = run_dir / (rundir.REQUESTS + ".tmp")
    try:
        pq.write_table(table, tmp)
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise write_failed(exc, target) from exc
    for part in [*parts, *(spool.glob("*.tmp") if spool.is_dir() else [])]:
        part.unlink()
    if spool.is_dir() and not any(spool.iterdir()):
        spool.rmdir()
    return int(table.num_rows)
