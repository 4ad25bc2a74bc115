"""The generic rules on apps that are not shop (tests/e2e/apps/pantry.py): same diagnosis."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.runs import describe, kinds, lagscope_run

pytestmark = pytest.mark.e2e
PANTRY = "tests/e2e/apps/pantry.py:"
SOURCE = Path(__file__).parent / "apps" / "pantry.py"


def line_of(snippet: str) -> int:
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if snippet in line)


def test_leaked_sessions_chatty_logs_and_500s_of_another_app_are_diagnosed(
    tmp_path: Path,
) -> None:
    summary = lagscope_run(tmp_path / "run", "--app", "tests.e2e.apps.pantry:app")
    assert {"connection_pool_exhaustion", "log_flood", "server_errors"} <= set(kinds(summary)), (
        describe(summary)
    )
    by_kind = {f["kind"]: f for f in summary["diagnosis"]}
    # The leak is named where its sessions are opened (and never closed), not where
    # requests queue for a connection.
    assert by_kind["connection_pool_exhaustion"]["location"] == (
        f"{PANTRY}{line_of('session = Sessions()')} (items)"
    )
    assert by_kind["log_flood"]["location"].startswith(PANTRY)
    assert by_kind["server_errors"]["endpoint"] in {"GET /export", "GET /items"}


def test_piling_tasks_and_a_slow_upstream_of_another_app_are_diagnosed(tmp_path: Path) -> None:
    # 10 s: a leak is judged by its shape over the steady window, which a busy machine can
    # cut to 2 s of a 5 s run
    summary = lagscope_run(
        tmp_path / "run", "--app", "tests.e2e.apps.pantry:depot", "--duration", "10s"
    )
    assert {"unbounded_background_tasks", "slow_dependency"} <= set(kinds(summary)), describe(
        summary
    )
    by_kind = {f["kind"]: f for f in summary["diagnosis"]}
    assert by_kind["unbounded_background_tasks"]["location"] == (
        f"{PANTRY}{line_of('await asyncio.sleep(60)')} (notify)"
    )
    assert by_kind["slow_dependency"]["endpoint"] == "GET /forecast"
    assert by_kind["slow_dependency"]["location"] == (
        f"{PANTRY}{line_of('await asyncio.sleep(1.5)')} (forecast)"
    )
