"""An app whose only stalls are full collections of a large heap (tests/e2e/apps/heap.py):
the stalls are the collector's (gc_pauses), not the line that happened to allocate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.runs import describe, lagscope_run

pytestmark = pytest.mark.e2e
HEAP = "tests/e2e/apps/heap.py:"


def test_full_collections_of_a_large_heap_are_put_on_the_collector(tmp_path: Path) -> None:
    summary = lagscope_run(
        tmp_path / "run", "--app", "tests.e2e.apps.heap:app", "--duration", "12s"
    )
    by_kind = {f["kind"]: f for f in summary["diagnosis"]}
    assert "gc_pauses" in by_kind, describe(summary)
    assert by_kind["gc_pauses"]["location"] == "<gc gen2>"
    gc = summary["gc"]
    assert gc["generations"]["2"]["pauses"] >= 3, gc
    assert (gc["context"] or "").startswith(HEAP), gc  # the allocating line, as context
    blockers = {b["location"]: b for b in summary["loop"]["top_blockers"]}
    assert blockers["<gc gen2>"]["context"].startswith(HEAP)
    # No finding blames the app's line for the collector's time.  (On a busy machine a few
    # short stalls that no collection explains may still land on it: only those count.)
    for finding in by_kind.values():
        if finding["kind"] == "event_loop_blocking" and finding["location"].startswith(HEAP):
            blamed = blockers[finding["location"]]["total_ms"]
            assert blamed < 0.1 * gc["stalls_ms"], describe(summary)
