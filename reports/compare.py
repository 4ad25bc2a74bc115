"""Comparing two runs: headline figures side by side with deltas, the same per endpoint both
runs share, the findings that differ, and warnings when the runs are not like for like.

Pure: works on two summaries (``summary.json`` dicts). A figure a summary lacks compares
as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, TypedDict

from lagscope.reports.summary_types import Finding, LatencyFigures, RunSection, Summary
from lagscope.reports.wording import plural

FigureKey = Literal["count", "rps", "failures", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                    "p999_ms", "max_ms"]  # fmt: skip
LoopKey = Literal["lag_p99_ms", "lag_max_ms", "stall_count", "stall_total_ms"]
RoleKey = Literal["rss_mb_peak", "cpu_pct_mean"]
Figure = Callable[[Summary], "float | None"]


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _aggregate(key: FigureKey) -> Figure:
    return lambda summary: _number(summary["requests"]["aggregate"].get(key))


def _loop(key: LoopKey) -> Figure:
    return lambda summary: _number(summary["loop"].get(key))


def _target(key: RoleKey) -> Figure:
    def figure(summary: Summary) -> float | None:
        role = summary["resources"].get("target")
        return None if role is None else _number(role.get(key))

    return figure


# (label, figure, unit); lower is better for all but throughput.
HEADLINES: list[tuple[str, Figure, str]] = [
    ("requests", _aggregate("count"), ""),
    ("throughput", _aggregate("rps"), "req/s"),
    ("failures", _aggregate("failures"), ""),
    ("P50", _aggregate("p50_ms"), "ms"),
    ("P90", _aggregate("p90_ms"), "ms"),
    ("P95", _aggregate("p95_ms"), "ms"),
    ("P99", _aggregate("p99_ms"), "ms"),
    ("P99.9", _aggregate("p999_ms"), "ms"),
    ("max", _aggregate("max_ms"), "ms"),
    ("loop lag P99", _loop("lag_p99_ms"), "ms"),
    ("loop lag max", _loop("lag_max_ms"), "ms"),
    ("stalls", _loop("stall_count"), ""),
    ("blocked", _loop("stall_total_ms"), "ms"),
    ("target RSS peak", _target("rss_mb_peak"), "MB"),
    ("target CPU mean", _target("cpu_pct_mean"), "%"),
]
# The first row per endpoint, its share of the requests, is computed, not stored ...
ENDPOINT_SHARE = ("share of requests", "%")
# ... then (label, key of the endpoint's figures, unit).
ENDPOINT_FIGURES: list[tuple[str, FigureKey, str]] = [
    ("failures", "failures", ""),
    ("P50", "p50_ms", "ms"),
    ("P95", "p95_ms", "ms"),
    ("P99", "p99_ms", "ms"),
]
# The endpoint mix differs materially when a shared endpoint's share of the requests moved
# by more than this many percentage points (or an endpoint ran in one run only): the
# aggregate percentiles then weigh the endpoints differently and their delta misleads ...
MIX_SHIFT_PP = 5.0
# ... and by more than this many standard errors of the difference of the two shares: a
# scenario that picks endpoints at random moves them by several points between two short
# runs (±3 points for 500 requests) with no change of mix at all.
MIX_NOISE_SE = 3.0
# Steady windows this many times apart in length rest their tails on very different counts.
WINDOW_RATIO = 2.0
# Open-model arrivals with no response by the end of the plan: failed rows, not an endpoint.
UNFINISHED_METHOD = "UNFINISHED "


class Row(TypedDict):
    """One figure of both runs: ``delta`` = b − a, ``ratio`` = delta / a."""

    name: str
    unit: str
    a: float | None
    b: float | None
    delta: float | None
    ratio: float | None


class Warning(TypedDict):
    kind: str
    message: str


class EndpointRows(TypedDict):
    endpoint: str
    rows: list[Row]


class Served(TypedDict):
    endpoint: str
    requests: int


class Shift(TypedDict):
    """A shared endpoint's share of the requests (percent) in A and B, and the move."""

    endpoint: str
    a: float
    b: float
    pp: float
    material: bool


class Mix(TypedDict):
    only_a: list[Served]
    only_b: list[Served]
    shifts: list[Shift]
    differs: bool


class FindingDiff(TypedDict):
    only_a: list[Finding]
    only_b: list[Finding]
    both: list[Finding]


class Comparison(TypedDict):
    """What ``compare`` returns and the compare renderers take."""

    a: RunSection
    b: RunSection
    warnings: list[Warning]
    headlines: list[Row]
    endpoints: list[EndpointRows]
    mix: Mix
    findings: FindingDiff


def _row(name: str, unit: str, va: float | None, vb: float | None) -> Row:
    delta = None if va is None or vb is None else vb - va
    ratio = None if delta is None or not va else delta / va
    return {"name": name, "unit": unit, "a": va, "b": vb, "delta": delta, "ratio": ratio}


def headline_rows(a: Summary, b: Summary) -> list[Row]:
    """One row per headline figure: ``{name, unit, a, b, delta, ratio}`` (delta = b − a)."""
    return [_row(name, unit, figure(a), figure(b)) for name, figure, unit in HEADLINES]


def endpoint_counts(summary: Summary) -> dict[str, int]:
    """Requests per endpoint that served any (unfinished arrivals left out)."""
    return {
        name: int(fig.get("count") or 0)
        for name, fig in (summary["requests"].get("endpoints") or {}).items()
        if not name.startswith(UNFINISHED_METHOD) and fig.get("count")
    }


def endpoint_shares(summary: Summary) -> dict[str, float]:
    """Each endpoint's share of the run's requests, in percent (unfinished arrivals left out)."""
    counts = endpoint_counts(summary)
    total = sum(counts.values())
    return {name: 100.0 * n / total for name, n in counts.items()} if total else {}


def material_shift(share_a: float, share_b: float, *, n_a: int, n_b: int) -> bool:
    """The share (percent) of one endpoint moved from ``share_a`` of ``n_a`` requests to
    ``share_b`` of ``n_b`` by more than MIX_SHIFT_PP points and beyond sampling noise."""
    moved = abs(share_b - share_a)
    if moved <= MIX_SHIFT_PP:
        return False
    pooled = (share_a * n_a + share_b * n_b) / (n_a + n_b) / 100.0
    noise = 100.0 * math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    return moved > MIX_NOISE_SE * noise


def endpoint_rows(a: Summary, b: Summary) -> list[EndpointRows]:
    """Per endpoint both runs served, by name: ``{endpoint, rows}`` with its share of the
    requests, then the rows of ENDPOINT_FIGURES (same form as the headline rows)."""
    shares_a, shares_b = endpoint_shares(a), endpoint_shares(b)
    figures_a: dict[str, LatencyFigures] = a["requests"].get("endpoints") or {}
    figures_b: dict[str, LatencyFigures] = b["requests"].get("endpoints") or {}
    out: list[EndpointRows] = []
    for name in sorted(shares_a.keys() & shares_b.keys()):
        fa, fb = figures_a[name], figures_b[name]
        rows = [_row(*ENDPOINT_SHARE, shares_a[name], shares_b[name])]
        rows += [
            _row(label, unit, _number(fa.get(key)), _number(fb.get(key)))
            for label, key, unit in ENDPOINT_FIGURES
        ]
        out.append({"endpoint": name, "rows": rows})
    return out


def endpoint_mix(a: Summary, b: Summary) -> Mix:
    """How the two runs' requests divide among endpoints.

    ``{only_a, only_b, shifts, differs}``: the endpoints one run served and the other did
    not (``{endpoint, requests}``); each shared endpoint's share of the requests in A and in
    B (``{endpoint, a, b, pp, material}``, in percent, the largest move first; ``material``
    see ``material_shift``); whether the mix differs materially: an endpoint in one run
    only, or a material shift.
    """
    counts_a, counts_b = endpoint_counts(a), endpoint_counts(b)
    n_a, n_b = sum(counts_a.values()), sum(counts_b.values())
    shares_a, shares_b = endpoint_shares(a), endpoint_shares(b)
    moves = {name: shares_b[name] - shares_a[name] for name in shares_a.keys() & shares_b.keys()}
    order = sorted(moves, key=lambda name: (-abs(moves[name]), name))
    shifts: list[Shift] = [
        {"endpoint": name, "a": shares_a[name], "b": shares_b[name], "pp": moves[name],
         "material": material_shift(shares_a[name], shares_b[name], n_a=n_a, n_b=n_b)}
        for name in order
    ]  # fmt: skip
    only_a: list[Served] = [
        {"endpoint": n, "requests": counts_a[n]} for n in sorted(counts_a.keys() - counts_b.keys())
    ]
    only_b: list[Served] = [
        {"endpoint": n, "requests": counts_b[n]} for n in sorted(counts_b.keys() - counts_a.keys())
    ]
    material = any(s["material"] for s in shifts)
    if not n_a or not n_b:  # a run that served nothing has no mix (it has its own warning)
        only_a, only_b = [], []
    return {"only_a": only_a, "only_b": only_b, "shifts": shifts,
            "differs": bool(only_a or only_b or material)}  # fmt: skip


def _served(endpoints: list[Served], limit: int = 3) -> str:
    """``GET /a (3 requests), POST /b (1 request) and 2 more``."""
    shown = ", ".join(
        f"{e['endpoint']} ({plural(e['requests'], 'request')})" for e in endpoints[:limit]
    )
    return shown + (f" and {len(endpoints) - limit} more" if len(endpoints) > limit else "")


def mix_warning(mix: Mix) -> list[Warning]:
    """One line when the endpoint mix differs materially, naming what moved."""
    if not mix["differs"]:
        return []
    parts = []
    moved = [s for s in mix["shifts"] if s["material"]]
    if moved:
        shares = ", ".join(f"{s['endpoint']} {s['a']:.0f}% → {s['b']:.0f}%" for s in moved[:3])
        more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
        parts.append(f"share of the requests, A → B: {shares}{more}")
    if mix["only_a"]:
        parts.append(f"only A served {_served(mix['only_a'])}")
    if mix["only_b"]:
        parts.append(f"only B served {_served(mix['only_b'])}")
    return [{
        "kind": "endpoint_mix",
        "message": (
            f"The endpoint mix differs ({'; '.join(parts)}): the aggregate figures weigh the "
            "endpoints differently, so compare the endpoints one by one."
        ),
    }]  # fmt: skip


def _load_model(summary: Summary) -> str:
    sender = summary.get("open_model")
    return "closed (--users)" if not sender else f"open (--rate {sender.get('rate')})"


def comparability_warnings(a: Summary, b: Summary) -> list[Warning]:
    """One warning per way the runs are not like for like: scenario, load model, length of
    the steady window, a game day. The comparison still stands; the reader is told."""
    warnings: list[Warning] = []
    for label, summary in (("A", a), ("B", b)):
        if not summary["requests"].get("aggregate", {}).get("count"):
            warnings.append({"kind": "no_requests", "message": (
                f"{label} collected no requests in its steady window: its figures are empty, "
                "there is nothing to compare (its findings say why)."
            )})  # fmt: skip
    scenario_a, scenario_b = a["run"].get("scenario"), b["run"].get("scenario")
    if scenario_a != scenario_b:
        warnings.append({"kind": "scenario", "message": (
            f"Different scenarios: A ran {scenario_a}, B ran {scenario_b}; the requests "
            "differ, not only the service."
        )})  # fmt: skip
    if bool(a.get("open_model")) != bool(b.get("open_model")):
        warnings.append({"kind": "load_model", "message": (
            f"Different load models: A {_load_model(a)}, B {_load_model(b)}. A closed model "
            "sends less when the service slows down, an open one does not, so latency and "
            "throughput are measured differently."
        )})  # fmt: skip
    seconds_a = float(a.get("window", {}).get("seconds") or 0.0)
    seconds_b = float(b.get("window", {}).get("seconds") or 0.0)
    shorter, longer = sorted((seconds_a, seconds_b))
    if shorter > 0 and longer / shorter >= WINDOW_RATIO:
        warnings.append({"kind": "window_length", "message": (
            f"Steady windows of very different length: A {seconds_a:.1f} s, B {seconds_b:.1f} "
            "s; the shorter run's tail percentiles rest on fewer requests and its slow "
            "effects (leaks, growth) had less time to show."
        )})  # fmt: skip
    for label, summary in (("A", a), ("B", b)):
        if "gameday" in summary:
            warnings.append({"kind": "gameday", "message": (
                f"{label} is a game day: its figures pool every phase (faults injected and "
                "fixed during the load), not one steady state."
            )})  # fmt: skip
    return warnings


def finding_key(finding: Finding) -> tuple[str, str]:
    return str(finding.get("kind")), str(finding.get("location"))


def finding_diff(a: Summary, b: Summary) -> FindingDiff:
    """Findings only run A has (gone in B), only B has (new in B), and in both."""
    keys_a = {finding_key(f) for f in a.get("diagnosis") or []}
    keys_b = {finding_key(f) for f in b.get("diagnosis") or []}
    return {
        "only_a": [f for f in a.get("diagnosis") or [] if finding_key(f) not in keys_b],
        "only_b": [f for f in b.get("diagnosis") or [] if finding_key(f) not in keys_a],
        "both": [f for f in a.get("diagnosis") or [] if finding_key(f) in keys_b],
    }


def compare(a: Summary, b: Summary) -> Comparison:
    """The comparison of run A with run B.

    ``{a, b, warnings, headlines, endpoints, mix, findings}``: ``a`` and ``b`` are the runs'
    ``run`` sections; ``warnings`` (``{kind, message}``) say where the runs are not like for
    like (``endpoint_mix``, ``no_requests``, ``scenario``, ``load_model``, ``window_length``,
    ``gameday``).
    """
    mix = endpoint_mix(a, b)
    return {
        "a": a["run"],
        "b": b["run"],
        "warnings": mix_warning(mix) + comparability_warnings(a, b),
        "headlines": headline_rows(a, b),
        "endpoints": endpoint_rows(a, b),
        "mix": mix,
        "findings": finding_diff(a, b),
    }
