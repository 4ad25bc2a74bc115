"""The run directory's writes: whole or absent, and an OS error is one line with what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lagscope import request_spool, rundir, runfiles
from lagscope.appends import PendingLines
from lagscope.errors import RunDirError
from lagscope.request_schema import SCHEMA
from tests.mounts import fill, needs_root, tmpfs


def write_part(run_dir: Path, n: int, rows: int) -> None:
    spool = run_dir / rundir.SPOOL
    spool.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {name: pa.array([None] * rows, type=SCHEMA.field(name).type) for name in SCHEMA.names},
        schema=SCHEMA,
    ).set_column(0, "t", pa.array([float(n * 100 + i) for i in range(rows)]))
    pq.write_table(table, spool / rundir.request_part(4242, n))


def test_a_file_where_the_directory_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(RunDirError) as caught:
        runfiles.check_writable(tmp_path / "taken" / "run")
    assert str(caught.value) == (
        f"cannot create the run directory {tmp_path}/taken/run: {tmp_path}/taken is a file, "
        "not a directory; choose another --out"
    )


def test_a_virtual_filesystem_is_refused_with_what_to_do() -> None:
    with pytest.raises(RunDirError) as caught:
        runfiles.check_writable(Path("/proc/forbidden"))
    assert "/proc does not take new files or directories" in str(caught.value)
    assert str(caught.value).endswith("choose another --out")


def test_a_writable_place_passes_and_keeps_nothing(tmp_path: Path) -> None:
    runfiles.check_writable(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


@needs_root
def test_a_read_only_filesystem_is_named(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    with tmpfs(ro, size="1m", read_only=True), pytest.raises(RunDirError) as caught:
        runfiles.check_writable(ro / "run")
    assert str(caught.value) == (
        f"cannot create the run directory {ro}/run: {ro} is on a read-only filesystem; "
        "choose an --out on a writable filesystem"
    )


def test_two_runs_cannot_claim_one_directory(tmp_path: Path) -> None:
    runfiles.claim(tmp_path)  # both runs found it empty; this one created logs/ first
    with pytest.raises(RunDirError) as caught:
        runfiles.claim(tmp_path)
    assert str(caught.value) == (
        f"run directory {tmp_path} was just taken by another run; choose another --out"
    )


def test_runs_started_in_the_same_second_get_a_default_directory_each(tmp_path: Path) -> None:
    base = tmp_path / "runs" / "20261130-032600-shop-shop"
    made = [runfiles.create_numbered(base) for _ in range(3)]  # each finds the last one there
    assert made == [base, base.with_name(base.name + "-2"), base.with_name(base.name + "-3")]
    assert all(path.is_dir() and not any(path.iterdir()) for path in made)
    for path in made:
        assert runfiles.create(path) == path  # an empty directory is a run's to fill


@needs_root
def test_a_merge_that_does_not_fit_keeps_every_part(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", size="2m") as fs:
        run_dir = fs / "run"
        for n in range(1, 4):
            write_part(run_dir, n, rows=50)
        (run_dir / rundir.SPOOL / "requests-4242-00004.tmp").write_bytes(b"PAR1 cut short")
        fill(fs / "ballast")
        with pytest.raises(RunDirError) as caught:
            request_spool.merge_request_parts(run_dir)
        assert str(caught.value) == (
            f"writing {run_dir}/requests.parquet failed: no space left on the filesystem of "
            f"{run_dir}"
        )
        assert not (run_dir / rundir.REQUESTS).exists()
        assert not (run_dir / (rundir.REQUESTS + ".tmp")).exists()
        assert request_spool.spooled_rows(run_dir) == 150  # every part still readable
        (fs / "ballast").unlink()
        assert request_spool.merge_request_parts(run_dir) == 150
        assert len(pd.read_parquet(run_dir / rundir.REQUESTS)) == 150
        assert not (run_dir / rundir.SPOOL).exists()  # the unfinished part went too


@needs_root
def test_a_file_that_does_not_fit_is_not_left_half_written(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", size="1m") as fs:
        (fs / "summary.json").write_text('{"old": true}\n')
        fill(fs / "ballast", leave=8192)
        with pytest.raises(RunDirError, match="no space left"):
            runfiles.write_text(fs / "summary.json", "x" * 100_000)
        assert (fs / "summary.json").read_text() == '{"old": true}\n'  # the old one stays
        assert sorted(p.name for p in fs.iterdir()) == ["ballast", "summary.json"]


@needs_root
def test_lines_that_do_not_fit_are_kept_whole_and_written_later(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", size="64k") as fs:
        rows = PendingLines(fs / "rows.csv")
        rows.add("t,lag_ms\n")
        assert rows.flush()
        fill(fs / "ballast", leave=4096)
        rows.add("".join(f"{i},0.5\n" for i in range(2000)))  # ~14 kB: more than is left
        assert not rows.flush()
        assert rows.error is not None
        assert runfiles.no_space(rows.error)
        assert (fs / "rows.csv").read_text() == "t,lag_ms\n"  # the part that fitted went back
        (fs / "ballast").unlink()
        assert rows.flush()
        lines = (fs / "rows.csv").read_text().splitlines()
        assert lines == ["t,lag_ms", *(f"{i},0.5" for i in range(2000))]  # whole, once


@needs_root
def test_the_reserve_holds_room_until_released(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", size="4m") as fs:
        before = os.statvfs(fs).f_bavail * os.statvfs(fs).f_frsize
        runfiles.hold_reserve(fs, 1_000_000)
        held = os.statvfs(fs).f_bavail * os.statvfs(fs).f_frsize
        assert before - held >= 1_000_000
        runfiles.release_reserve(fs)
        assert os.statvfs(fs).f_bavail * os.statvfs(fs).f_frsize == before
        with pytest.raises(RunDirError, match="cannot keep 8,000,000 bytes for the report"):
            runfiles.hold_reserve(fs, 8_000_000)
        assert not (fs / rundir.RESERVE).exists()
