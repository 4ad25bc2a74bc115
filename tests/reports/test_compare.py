"""Comparing two summaries: deltas of the headline figures and per endpoint, the findings that
differ, and a warning for each way the two runs are not like for like."""

from __future__ import annotations

import io
from typing import Any

import pytest
from lagscope.reports.compare import compare
from lagscope.reports.renderers.compare import delta_text, print_compare, render_compare_html
from rich.console import Console


def _summary(p99: float, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run": {"dir": "x", "faults": []},
        "requests": {"aggregate": {"count": 100, "rps": 20.0, "failures": 0, "p99_ms": p99}},
        "loop": {"stall_count": len(findings)},
        "resources": {},
        "diagnosis": findings,
    }


BLOCK = {"kind": "event_loop_blocking", "location": "a.py:3", "severity": "critical",
         "summary": "blocked"}  # fmt: skip


def test_compare_names_the_finding_that_disappeared_and_the_p99_change() -> None:
    result = compare(_summary(400.0, [BLOCK]), _summary(100.0, []))
    assert result["findings"]["only_a"] == [BLOCK]
    assert result["findings"]["only_b"] == []
    p99 = next(r for r in result["headlines"] if r["name"] == "P99")
    assert p99["delta"] == -300.0
    assert p99["ratio"] == pytest.approx(-0.75)
    assert delta_text(p99) == "−300 ms (−75%)"  # one minus sign, U+2212


def test_missing_figures_compare_as_unknown() -> None:
    result = compare(_summary(1.0, []), _summary(2.0, []))
    rss = next(r for r in result["headlines"] if r["name"] == "target RSS peak")
    assert rss["delta"] is None
    assert delta_text(rss) == "–"


def test_a_change_of_a_percentage_is_in_points_and_its_ratio_in_percent() -> None:
    a, b = _summary(1.0, []), _summary(1.0, [])
    a["resources"] = {"target": {"cpu_pct_mean": 29.0}}
    b["resources"] = {"target": {"cpu_pct_mean": 32.2}}
    cpu = next(r for r in compare(a, b)["headlines"] if r["name"] == "target CPU mean")
    assert delta_text(cpu) == "+3.2 pp (+11%)"


def _endpoint(count: int, p95: float) -> dict[str, Any]:
    return {"count": count, "failures": 0, "rps": count / 10, "p50_ms": p95 / 4,
            "p95_ms": p95, "p99_ms": p95 * 1.2}  # fmt: skip


def _mixed(fast: int, slow: int, **extra: Any) -> dict[str, Any]:
    """A run of ``fast`` requests to a 40 ms endpoint and ``slow`` to a 500 ms one, each as
    fast as in the other run: only the mix differs."""
    summary = _summary(1.0, [])
    endpoints = {"GET /fast": _endpoint(fast, 40.0), "GET /slow": _endpoint(slow, 500.0)}
    summary["requests"]["endpoints"] = {k: v for k, v in endpoints.items() if v["count"]}
    summary["run"].update(scenario="shop")
    summary["window"] = {"seconds": 10.0}
    summary["open_model"] = None
    return {**summary, **extra}


def _kinds(result: dict[str, Any]) -> list[str]:
    return [w["kind"] for w in result["warnings"]]


def test_endpoints_both_runs_served_are_compared_one_by_one() -> None:
    result = compare(_mixed(900, 100), _mixed(600, 400))
    assert [e["endpoint"] for e in result["endpoints"]] == ["GET /fast", "GET /slow"]
    slow = {r["name"]: r for r in result["endpoints"][1]["rows"]}
    assert (slow["share of requests"]["a"], slow["share of requests"]["b"]) == (10.0, 40.0)
    assert delta_text(slow["share of requests"]) == "+30.0 pp (+300%)"
    assert slow["P95"]["delta"] == 0.0  # the slow endpoint is no slower in B
    assert delta_text(slow["P95"]) == "0 ms (0%)"


def test_a_shift_of_more_than_5_points_in_the_endpoint_mix_is_warned_about() -> None:
    result = compare(_mixed(900, 100), _mixed(600, 400))
    (warning,) = result["warnings"]
    assert warning["kind"] == "endpoint_mix"
    assert "A → B: GET /fast 90% → 60%, GET /slow 10% → 40%" in warning["message"]
    assert "\n" not in warning["message"]


def test_a_mix_within_5_points_gives_no_warning() -> None:
    assert compare(_mixed(900, 100), _mixed(860, 140))["warnings"] == []  # 10% vs 14%
    assert compare(_mixed(900, 100), _mixed(900, 100))["mix"]["differs"] is False


def test_a_shift_within_the_sampling_noise_of_short_runs_gives_no_warning() -> None:
    # 45% → 39% of 480 and 600 requests: 6 points, but two standard errors of a random pick
    short = compare(_mixed(264, 216), _mixed(366, 234))
    assert [round(s["pp"]) for s in short["mix"]["shifts"]] == [6, -6]
    assert short["warnings"] == []
    # the same move over 20 times the requests is a change of mix
    assert _kinds(compare(_mixed(5280, 4320), _mixed(7320, 4680))) == ["endpoint_mix"]


def test_an_endpoint_served_in_one_run_only_is_named_in_the_warning() -> None:
    result = compare(_mixed(900, 100), _mixed(1000, 0))
    assert _kinds(result) == ["endpoint_mix"]
    assert "only A served GET /slow (100 requests)" in result["warnings"][0]["message"]
    assert [e["endpoint"] for e in result["endpoints"]] == ["GET /fast"]


def test_unfinished_arrivals_are_not_an_endpoint_of_the_mix() -> None:
    b = _mixed(900, 100)
    b["requests"]["endpoints"]["UNFINISHED (no response by the end of the plan)"] = _endpoint(
        50, 2000.0
    )
    assert compare(_mixed(900, 100), b)["warnings"] == []


@pytest.mark.parametrize(
    ("change_b", "kind", "says"),
    [
        ({"run": {"dir": "y", "faults": [], "scenario": "openapi"}}, "scenario",
         "Different scenarios: A ran shop, B ran openapi"),
        ({"open_model": {"rate": "200"}}, "load_model",
         "Different load models: A closed (--users), B open (--rate 200)"),
        ({"window": {"seconds": 25.0}}, "window_length",
         "Steady windows of very different length: A 10.0 s, B 25.0 s"),
        ({"gameday": {"title": "pool exhaustion", "started": True}}, "gameday",
         "B is a game day"),
    ],
)  # fmt: skip
def test_runs_that_are_not_like_for_like_are_compared_with_one_warning_each(
    change_b: dict[str, Any], kind: str, says: str
) -> None:
    result = compare(_mixed(900, 100), _mixed(900, 100, **change_b))
    assert _kinds(result) == [kind]
    assert says in result["warnings"][0]["message"]
    assert result["headlines"]  # warned, not refused


def test_a_run_that_collected_nothing_is_said_so_not_called_a_change_of_mix() -> None:
    empty = _mixed(0, 0)
    empty["requests"]["aggregate"]["count"] = 0
    result = compare(_mixed(900, 100), empty)
    assert _kinds(result) == ["no_requests"]
    assert result["warnings"][0]["message"].startswith("B collected no requests")


def test_windows_less_than_twice_apart_are_comparable() -> None:
    result = compare(_mixed(900, 100), _mixed(900, 100, window={"seconds": 19.0}))
    assert result["warnings"] == []


def _printed(result: dict[str, Any]) -> str:
    out = io.StringIO()
    print_compare(result, console=Console(file=out, width=160))
    return out.getvalue()


def test_the_terminal_shows_faults_warnings_and_the_endpoints_of_both_runs() -> None:
    a = _mixed(900, 100)
    a["run"]["faults"] = ["blocking_io"]
    text = _printed(compare(a, _mixed(600, 400, open_model={"rate": "200"})))
    lines = text.splitlines()
    assert "A: x (faults: blocking_io)" in lines
    assert "B: x (faults: none)" in lines
    warnings = [line for line in lines if line.startswith("WARNING ")]
    assert len(warnings) == 2  # mix and load model, one line each
    slow = lines.index(next(line for line in lines if "│ GET /slow " in line))
    assert "+30.0 pp (+300%)" in lines[slow]
    assert "P95" in lines[slow + 3]
    assert "0 ms (0%)" in lines[slow + 3]
    assert "2 endpoints served in both runs" in text


def test_the_page_shows_the_same_warnings_and_endpoint_rows() -> None:
    a = _mixed(900, 100)
    a["run"]["faults"] = ["blocking_io"]
    page = render_compare_html(compare(a, _mixed(1000, 0, window={"seconds": 30.0})), {})
    assert page.count('class="selfcheck"') == 2
    assert 'data-kind="window_length"' in page
    assert "only A served GET /slow" in page
    assert "(faults: blocking_io)" in page
    endpoints = page.split('id="endpoints"')[1].split("</table>")[0]
    assert "GET /fast" in endpoints
    assert "GET /slow" not in endpoints  # one run only: in the warning, not the table
