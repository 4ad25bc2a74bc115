"""A sweep's results and recommendation, from recorded steps made by hand."""

from __future__ import annotations

from typing import Any

from reports.sweep import point_result, recommend


def row(
    workers: int, rate: float | None, *, server: str = "uvicorn", valid: bool = True
) -> dict[str, Any]:
    return {
        "server": server,
        "loop": "uvloop",
        "threadpool": None,
        "workers": workers,
        "max_rate_rps": rate,
        "valid": valid,
    }


def step(rate: float, passed: bool, kind: str = "search", **figures: Any) -> dict[str, Any]:
    return {"rate": rate, "kind": kind, "passed": passed, "valid": True, "reason": None,
            "p99_ms": figures.get("p99_ms"), "run_dir": f"points/x/{rate:g}rps"}  # fmt: skip


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
    advice = recommend([row(1, 800.0), row(2, 800.0)], cpu_count=2, ceiling=800.0)
    assert advice["choice"]["workers"] == 1
    assert "reached the highest rate tried (800 req/s, --max-rate)" in advice["text"]
