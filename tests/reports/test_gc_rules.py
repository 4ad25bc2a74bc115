"""Stalls the garbage collector explains are its, not the interrupted line's: gc_pauses on
hand-made gc.csv rows and stalls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lagscope.reports.gcpauses import attribute_to_gc, gc_figures
from lagscope.reports.rundata import load_run
from lagscope.reports.summary import summarize

from tests.reports import frames, rundirs

ALLOCATING = "app/pages.py:27"  # where the collections happened to be triggered


def stall(
    at: float, duration_ms: float, location: str = ALLOCATING, *, user: bool = True
) -> dict[str, Any]:
    """A stall blamed by the watchdog on ``location`` (the line that ran after the pause)."""
    stack = {
        "count": 3,
        "location": location,
        "function": "render",
        "endpoint": "GET /pages",
        "in_user_code": user,
        "cause": "cpu",
        "frames": [[location.split(":")[0], int(location.split(":")[1]), "render", user]],
    }
    return {"pid": 4242, "start": frames.T0 + at, "duration_ms": duration_ms,
            "lag_ms": duration_ms - 5, "samples": 3, "cpu_share": 0.9, "cause": "cpu",
            "location": location, "function": "render", "in_user_code": user,
            "endpoint": "GET /pages", "stacks": [stack]}  # fmt: skip


FULL_COLLECTIONS = [(1.0 + 1.2 * i, 2, 60.0) for i in range(8)]  # 60 ms every 1.2 s


def gc_run() -> dict[str, Any]:
    young = [(at / 10, 0, 0.5) for at in range(100)]
    stalls = [stall(at - 0.002, 64.0) for at, _, _ in FULL_COLLECTIONS]
    data = frames.run_data(
        stall_frame=frames.stalls(stalls), gc_frame=frames.collections(young + FULL_COLLECTIONS)
    )
    return summarize(data)


def test_stalls_of_full_collections_are_put_on_the_collector_with_the_line_as_context() -> None:
    summary = gc_run()
    (blocker,) = summary["loop"]["top_blockers"]
    assert blocker["location"] == "<gc gen2>"
    assert blocker["in_user_code"] is False
    assert blocker["context"] == ALLOCATING
    assert blocker["count"] == 8


def test_a_heap_whose_only_stalls_are_collections_gives_gc_pauses_and_no_loop_blocking() -> None:
    summary = gc_run()
    assert [f["kind"] for f in summary["diagnosis"]] == ["gc_pauses"]
    (finding,) = summary["diagnosis"]
    assert finding["location"] == "<gc gen2>"
    assert finding["severity"] == "warning"  # 480 ms of 10 s: 4.8% of the loop
    assert "8 times for 20 ms or more (480 ms, 4.8% of the loop's time)" in finding["summary"]
    assert "gen2: 8 pauses ≥ 20 ms, 480 ms in total, longest 60 ms" in finding["evidence"]
    assert f"(context, not the culprit): {ALLOCATING}" in finding["evidence"]
    assert "gc.freeze()" in finding["remedy"]


def test_a_stall_the_collections_do_not_explain_stays_on_its_line() -> None:
    # a 100 ms block overlapping a 5 ms young collection: the block is the code's
    stalls = frames.stalls([stall(2.0, 100.0, "app/io.py:9")])
    gc = frames.collections([(2.05, 0, 5.0)])
    (kept,) = attribute_to_gc(stalls, gc).to_dict("records")
    assert kept["location"] == "app/io.py:9"


def test_collections_of_another_worker_do_not_explain_a_stall() -> None:
    stalls = frames.stalls([stall(2.0, 64.0)])
    gc = frames.collections([(2.0, 2, 60.0)]).assign(pid=1)
    assert attribute_to_gc(stalls, gc)["location"].tolist() == [ALLOCATING]


def test_the_tail_share_counts_slow_requests_that_overlapped_a_pause() -> None:
    requests = frames.requests(n=1000)
    slow = requests.index[:10]
    requests.loc[slow, "t"] = frames.T0 + 3.0
    requests.loc[slow, "latency_ms"] = 500.0  # the ten slowest, all across the pause at 3.2 s
    figures = gc_figures(
        frames.collections([(3.2, 2, 80.0)]), frames.stalls(), requests,
        threshold_ms=20.0, seconds=10.0, workers=1,
    )  # fmt: skip
    assert figures["tail"]["requests"] == 10
    assert figures["tail"]["overlapping"] == 10
    assert figures["pauses"] == 1
    assert figures["generations"]["2"]["max_ms"] == 80.0


def test_short_young_collections_alone_are_no_finding() -> None:
    summary = summarize(frames.run_data())  # a 1 ms young collection every 50 ms
    assert summary["diagnosis"] == []
    assert summary["gc"]["collections"] == 200
    assert summary["gc"]["pauses"] == 0


def test_a_run_without_gc_csv_reads_as_not_recorded() -> None:
    summary = summarize(frames.run_data(gc_frame=frames.collections([])))
    assert summary["gc"] == {"recorded": False, "threshold_ms": 20.0}


def test_a_collection_the_machine_held_up_is_not_a_pause_of_the_collector() -> None:
    # 115 ms long, 0.4 ms on the CPU: preempted while it held the GIL
    held = frames.collections([(2.0 + i, 0, 115.0) for i in range(4)]).assign(cpu_ms=0.4)
    summary = summarize(frames.run_data(gc_frame=held))
    assert summary["diagnosis"] == []
    assert (summary["gc"]["pauses"], summary["gc"]["held_up"]) == (0, 4)


def test_a_collection_stall_never_sampled_has_no_context_rather_than_nan() -> None:
    # The watchdog recorded the stall's length but no stack (location null): once in a
    # frame the missing line is NaN, and summary.json must say null, not NaN.
    unsampled = {
        **stall(1.0 - 0.002, 64.0),
        "location": float("nan"),
        "function": None,
        "samples": 0,
        "stacks": [],
    }  # fmt: skip  (NaN: as read from stalls.jsonl)
    stalls = [unsampled] + [stall(at - 0.002, 64.0) for at, _, _ in FULL_COLLECTIONS[1:]]
    data = frames.run_data(
        stall_frame=frames.stalls(stalls), gc_frame=frames.collections(FULL_COLLECTIONS)
    )
    summary = summarize(data)
    assert summary["gc"]["context"] == ALLOCATING
    (blocker,) = summary["loop"]["top_blockers"]
    assert blocker["context"] == ALLOCATING
    only_unsampled = frames.run_data(
        stall_frame=frames.stalls([unsampled]), gc_frame=frames.collections(FULL_COLLECTIONS)
    )
    assert summarize(only_unsampled)["gc"]["context"] is None


def test_a_collection_seen_at_a_line_not_the_users_gives_no_context() -> None:
    # Collections the loop's own work started (uvloop allocating a timer handle) are first
    # sampled at the runner: outnumbering the app's, they once made its line the context.
    runner = "<stdlib>/asyncio/runners.py:118"
    stalls = [
        stall(at - 0.002, 64.0, runner if i % 4 else ALLOCATING, user=i % 4 == 0)
        for i, (at, _, _) in enumerate(FULL_COLLECTIONS)
    ]
    data = frames.run_data(
        stall_frame=frames.stalls(stalls), gc_frame=frames.collections(FULL_COLLECTIONS)
    )
    summary = summarize(data)
    assert summary["gc"]["context"] == ALLOCATING
    (blocker,) = summary["loop"]["top_blockers"]
    assert blocker["context"] == ALLOCATING
    assert blocker["count"] == 8


def test_the_line_a_collection_began_at_is_the_context_though_no_stall_was_sampled() -> None:
    # The watchdog gets the GIL only after a collection, and by then the loop may be idle:
    # the stalls have no line, but the probe's callback noted where each collection began.
    unsampled = [
        {**stall(at - 0.002, 64.0), "location": float("nan"), "function": None, "samples": 0,
         "stacks": []}
        for at, _, _ in FULL_COLLECTIONS
    ]  # fmt: skip
    data = frames.run_data(
        stall_frame=frames.stalls(unsampled),
        gc_frame=frames.collections(FULL_COLLECTIONS, site=ALLOCATING),
    )
    summary = summarize(data)
    assert summary["gc"]["context"] == ALLOCATING
    (blocker,) = summary["loop"]["top_blockers"]
    assert (blocker["location"], blocker["context"]) == ("<gc gen2>", ALLOCATING)


def test_the_noted_line_wins_over_the_line_the_watchdog_saw_next() -> None:
    stalls = frames.stalls([stall(at - 0.002, 64.0, "app/next.py:3") for at, _, _ in
                            FULL_COLLECTIONS])  # fmt: skip
    gc = frames.collections(FULL_COLLECTIONS, site=ALLOCATING)
    assert summarize(frames.run_data(stall_frame=stalls, gc_frame=gc))["gc"]["context"] == (
        ALLOCATING
    )


def test_gc_csv_reads_with_its_sites_and_without_them_as_earlier_probes_wrote_it(
    tmp_path: Path,
) -> None:
    run = rundirs.write_run(tmp_path / "run", rows=300, stalls=False, gauges=False)
    workers = run / "workers"
    (workers / "1").mkdir()
    (workers / "1" / "gc.csv").write_text(  # this probe's: a long collection's line, quoted
        "t,generation,duration_ms,cpu_ms,collected,uncollectable,on_loop,site\n"
        f"{rundirs.T0 + 1:.6f},0,0.5,0.5,3,0,1,\n"
        f'{rundirs.T0 + 2:.6f},2,64.0,60.0,0,0,1,"app/a,b.py:7"\n'
    )  # fmt: skip
    (workers / "2").mkdir()
    (workers / "2" / "gc.csv").write_text(  # an earlier probe's: no site, no cpu_ms
        "t,generation,duration_ms,collected,uncollectable,on_loop\n"
        f"{rundirs.T0 + 3:.6f},2,70.0,0,0,1\n"
    )  # fmt: skip
    gc = load_run(run).gc.sort_values("t")
    assert gc["site"].tolist() == ["", "app/a,b.py:7", ""]
    assert gc["pid"].tolist() == [1, 1, 2]
    assert gc["duration_ms"].tolist() == [0.5, 64.0, 70.0]
    assert gc["cpu_ms"].isna().tolist() == [False, False, True]
