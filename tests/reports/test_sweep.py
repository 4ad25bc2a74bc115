"""A sweep's results and recommendation, from recorded steps made by hand."""

from __future__ import annotations

from typing import Any

from lagscope.reports.sweep import point_result, recommend, results


def row(
    workers: int,
    rate: float | None,
    *,
    server: str = "uvicorn",
    valid: bool = True,
    failed_at: float | None = -1.0,
) -> dict[str, Any]:
    """A configuration's result; it failed the SLO above ``rate`` (at ``failed_at``; by
    default at twice ``rate``), or never (None)."""
    if failed_at == -1.0:
        failed_at = 2 * rate if rate is not None else 10.0
    failure = None if failed_at is None else {
        "steps": 1, "lowest_rate": failed_at, "checks": {}, "check": None, "culprit": None,
    }  # fmt: skip
    return {
        "server": server,
        "loop": "uvloop",
        "threadpool": None,
        "workers": workers,
        "max_rate_rps": rate,
        "valid": valid,
        "slo_failure": failure,
    }


def step(rate: float, passed: bool, kind: str = "search", **figures: Any) -> dict[str, Any]:
    return {"rate": rate, "kind": kind, "passed": passed, "valid": figures.get("valid", True),
            "reason": figures.get("reason"), "p99_ms": figures.get("p99_ms"),
            "run_dir": f"points/x/{rate:g}rps", "failed_checks": figures.get("failed", []),
            "culprits": figures.get("culprits", {})}  # fmt: skip


def test_a_point_reports_its_figures_at_the_highest_confirmed_rate() -> None:
    steps = [step(50, True, p99_ms=20.0), step(100, True, p99_ms=80.0), step(200, False),
             step(140, False), step(100, True, "confirm", p99_ms=85.0)]  # fmt: skip
    result = point_result(
        {"server": "uvicorn", "loop": "auto", "threadpool": None, "workers": 1}, steps
    )
    assert result["max_rate_rps"] == 100
    assert result["confirmed"]
    assert result["p99_ms_at_max"] == 85.0  # the confirmation's figures
    assert result["run_dir_at_max"] == "points/x/100rps"
    assert result["valid"]


def test_cpu_bound_scaling_recommends_more_workers_and_says_by_how_much() -> None:
    advice = recommend([row(1, 100.0), row(2, 190.0), row(4, 195.0)], cpu_count=2)
    assert advice["choice"]["workers"] == 2
    assert advice["text"].startswith("2 uvicorn workers with uvloop: 1.90× 1 worker")
    assert "4 workers add +3% on 2 cores" in advice["text"]


def test_when_workers_buy_little_the_fewest_are_recommended() -> None:
    advice = recommend([row(1, 300.0), row(2, 310.0)], cpu_count=2)
    assert advice["choice"]["workers"] == 1
    assert "more workers buy little (2 workers 1.03×)" in advice["text"]


def test_servers_are_compared_at_the_same_worker_count() -> None:
    rows = [row(2, 200.0), row(2, 150.0, server="gunicorn")]
    advice = recommend(rows, cpu_count=2)
    assert advice["choice"]["server"] == "uvicorn"
    assert "gunicorn with as many workers: −25%" in advice["text"]


def test_invalid_points_are_never_recommended() -> None:
    advice = recommend([row(1, 100.0), row(2, 400.0, valid=False)], cpu_count=2)
    assert advice["choice"]["workers"] == 1
    assert recommend([row(1, None)], cpu_count=2)["choice"] is None


def test_reaching_the_highest_rate_tried_is_said() -> None:
    rows = [row(1, 400.0), row(2, 800.0, failed_at=None)]
    advice = recommend(rows, cpu_count=2, ceiling=800.0)
    assert advice["choice"]["workers"] == 2
    assert "reached the highest rate tried (800 req/s, --max-rate)" in advice["text"]


def test_when_no_configuration_ever_failed_the_sweep_is_inconclusive() -> None:
    # Every rate is a lower bound: "2 workers 1.00×" would say nothing about workers.
    rows = [row(1, 10.0, failed_at=None), row(2, 10.0, failed_at=None)]
    advice = recommend(rows, cpu_count=2)
    assert advice["choice"] is None
    assert advice["text"].startswith(
        "Inconclusive: no configuration failed the SLO at any rate tried (up to 10 req/s)"
    )
    assert "--start-rate or --max-steps" in advice["text"]


POINT = {"server": "uvicorn", "loop": "auto", "threadpool": None}
SLOW = {"endpoint": "GET /slow", "share": 0.93, "requests": 40, "of": "requests over 500 ms"}


def _advice(*points: list[dict[str, Any]]) -> str:
    state = {"points": {str(i): {"point": {**POINT, "workers": i + 1}, "steps": steps}
                        for i, steps in enumerate(points)}}  # fmt: skip
    advice = recommend(results(state), cpu_count=2)
    assert advice["choice"] is None
    return str(advice["text"])


def _failing_everywhere(**culprits: Any) -> list[dict[str, Any]]:
    """Halving from 50 req/s to the minimum, failing p99 every time and errors twice."""
    return [
        step(rate, False, failed=["p99<500ms"] + (["errors<0.1%"] if rate > 20 else []),
             culprits=culprits if rate < 20 else {})
        for rate in (50, 25, 12, 6, 5)
    ]  # fmt: skip


def test_when_the_slo_failed_at_every_rate_the_advice_names_the_check_and_endpoint() -> None:
    text = _advice(_failing_everywhere(**{"p99<500ms": SLOW}))
    assert text == (
        "No configuration met the SLO at any rate tried, down to 5 req/s: p99<500ms failed in "
        "5 of 5 steps, mostly on GET /slow (93% of the requests over 500 ms at 5 req/s)."
    )


def test_a_sweep_recorded_before_culprits_still_names_the_check() -> None:
    text = _advice(_failing_everywhere())
    assert text.endswith("down to 5 req/s: p99<500ms failed in 5 of 5 steps.")


def test_when_the_load_generator_was_the_limit_the_advice_says_so_and_what_to_do() -> None:
    limited = [step(50, True), step(100, False, valid=False, reason="load generator saturated "
                                     "(97% CPU per process)")]  # fmt: skip
    text = _advice(limited, limited)
    assert text == (
        "No rate to recommend: on every configuration the load generator, not the target, was "
        "the limit (load generator saturated (97% CPU per process)): give it more processes "
        "(--load-procs) or more cores."
    )


def test_when_both_happened_the_advice_says_which_configuration_met_which() -> None:
    limited = [step(50, False, valid=False, reason="load generator sent late (p99 80.0 ms "
                                                   "behind the plan)")]  # fmt: skip
    text = _advice(_failing_everywhere(**{"p99<500ms": SLOW}), limited)
    assert text.startswith("No rate to recommend. 1 configuration met the SLO at no rate tried")
    assert "mostly on GET /slow" in text
    assert text.endswith("On 1 more, the load generator, not the target, was the limit (load "
                         "generator sent late (p99 80.0 ms behind the plan)): give it more "
                         "processes (--load-procs) or more cores.")  # fmt: skip
