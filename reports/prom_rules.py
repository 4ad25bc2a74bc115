"""SLOs as Prometheus rules: recording rules for the SLIs, multi-window burn-rate alerts.

The same objectives ``--slo`` and game days judge runs by become rules over the probe's
HTTP metrics (``lagscope.metric_names``), so a game day's alert and production's alert
are one rule.  Pure: objectives and burn-rate rules in, rule groups (plain dicts, in
Prometheus' rule-file shape) out; ``renderers/rules_yaml`` writes them.

An objective's bad-request ratio over a window is recorded once per window its alerts
use (``lagscope:slo_bad:ratio_rate5m{slo="..."}``).  A request is bad for

    availability   answered 5xx (the server's view: a load generator's refused
                   connections never reach it)
    latency        slower than the threshold, counted from the histogram's ``le``
                   bucket, so the threshold must be one of the probe's buckets

An alert fires when the bad ratio over its long **and** its short window exceed
``factor × budget`` (SRE workbook, ch. 5).  Without game-day rules, every objective
gets the workbook's three: 2 % of the period's budget in 1 h (short 5 m, page), 5 % in
6 h (30 m, page), 10 % in 3 d (6 h, ticket); the factor is that share times the period
over the long window (14.4, 6 and 1 for 30 days).  A rule whose factor the objective
cannot reach (above 1 / budget: a p50 objective burns at most 2×) is left out, and
said so.  ``time_scale`` divides every window, as a game day's does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lagscope.reports.burnrate import BurnRateRule
from lagscope.reports.sli import Objective
from lagscope.reports.slo_spec import Slo

from lagscope import metric_names as names
from lagscope.errors import UsageError

DAY_S = 86400.0
PERIOD_S = 30 * DAY_S  # the SLO period the workbook's factors assume
SLI_WINDOW_S = 60  # the guide's SLIs (throughput, 5xx, P95/P99) are recorded over 1 m
RECORD_BAD = "lagscope:slo_bad:ratio_rate"  # + window: the share of bad requests
RECORD_BUDGET = "lagscope:slo_budget:ratio"  # the share allowed to be bad (1 - target)
RECORD_REMAINING = "lagscope:slo_error_budget:remaining_ratio"  # over the SLO period


@dataclass(frozen=True)
class WorkbookRule:
    name: str
    budget_share: float  # of the period's budget, consumed within the long window
    long_s: float
    short_s: float
    severity: str


WORKBOOK = (
    WorkbookRule("fast-burn", 0.02, 3600.0, 300.0, "page"),
    WorkbookRule("slow-burn", 0.05, 6 * 3600.0, 1800.0, "page"),
    WorkbookRule("budget-burn", 0.10, 3 * DAY_S, 6 * 3600.0, "ticket"),
)


@dataclass(frozen=True)
class RuleSet:
    groups: list[dict[str, Any]]  # Prometheus' rule-file ``groups``
    notes: list[str]  # what was left out, and why (one line each)


_LATENCY_SHARES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def objectives_from_slos(slos: Sequence[Slo]) -> tuple[list[Objective], list[str]]:
    """The ``--slo`` checks that are objectives (a share of good requests), named for
    their labels (``availability``, ``latency_p99``); notes on the ones that are not."""
    found: list[Objective] = []
    notes: list[str] = []
    taken: set[str] = set()
    for slo in slos:
        if slo.metric in _LATENCY_SHARES and slo.op in ("<", "<="):
            share = _LATENCY_SHARES[slo.metric]
            name = _unique(f"latency_{slo.metric}", taken)
            found.append(Objective(
                name=name, text=slo.name, kind="latency", target=share / 100.0,
                threshold_ms=slo.target,
            ))  # fmt: skip
        elif (slo.metric, slo.op) in {("errors", "<"), ("errors", "<="), ("success", ">"),
                                      ("success", ">=")}:  # fmt: skip
            good = 100.0 - slo.target if slo.metric == "errors" else slo.target
            if not 0 < good < 100:
                notes.append(f"{slo.name}: leaves no error budget; no rule")
                continue
            name = _unique("availability", taken)
            found.append(
                Objective(name=name, text=slo.name, kind="availability", target=good / 100.0)
            )
        else:
            notes.append(f"{slo.name}: not a share of good requests (a load test's check); no rule")
    return found, notes


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def workbook_rules(
    objectives: Sequence[Objective], *, period_s: float = PERIOD_S
) -> tuple[list[BurnRateRule], list[str]]:
    """The workbook's three rules for each objective, factors scaled to ``period_s``;
    rules an objective cannot reach are left out (and noted)."""
    rules: list[BurnRateRule] = []
    notes: list[str] = []
    for objective in objectives:
        for w in WORKBOOK:
            factor = round(w.budget_share * period_s / w.long_s, 4)
            if factor * objective.budget >= 1.0:
                notes.append(
                    f"{objective.name} ({objective.text}): {w.name} needs a burn rate of "
                    f"{factor:g}x, but a budget of {objective.budget:.4g} allows at most "
                    f"{1 / objective.budget:.4g}x; no rule"
                )
                continue
            rules.append(BurnRateRule(
                name=w.name, slo=objective.name, long_s=int(w.long_s), short_s=int(w.short_s),
                factor=factor, severity="page" if w.severity == "page" else "ticket",
            ))  # fmt: skip
    return rules, notes


def duration(seconds: float) -> str:
    """A Prometheus duration: ``5m``, ``1h``, ``90s``, ``1500ms``."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise UsageError(f"a window of {seconds:g} s is too short for Prometheus")
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _scaled(seconds: float, time_scale: float, *, what: str) -> float:
    scaled = seconds / time_scale
    if scaled < 1.0:
        raise UsageError(
            f"{what} is {scaled:.3g} s at time scale {time_scale:g}; a window must span at "
            "least two scrapes (>= 1 s here): use a smaller --time-scale"
        )
    return round(scaled, 3)


def le_for(objective: Objective) -> str:
    """The histogram bucket the latency threshold falls on; UsageError if none."""
    assert objective.threshold_ms is not None
    bound = objective.threshold_ms / 1000.0
    for bucket in names.HTTP_BUCKETS_S:
        if abs(bucket - bound) < 1e-9:
            return names.le_label(bucket)
    choices = ", ".join(f"{b * 1000:g}ms" for b in names.HTTP_BUCKETS_S)
    raise UsageError(
        f"SLO {objective.name} ({objective.text}): {objective.threshold_ms:g} ms is not a "
        f"bucket of the probe's {names.HTTP_DURATION} histogram; choose one of {choices}"
    )


def _selectors(objective: Objective, extra: str = "") -> list[str]:
    """Label matchers of the requests ``objective`` covers: one per endpoint, or all."""
    if not objective.endpoints:
        return [extra]
    found = []
    for endpoint in objective.endpoints:
        method, _, route = endpoint.partition(" ")
        if not route.startswith("/"):
            method, route = "", endpoint  # a name without a method: any method
        matchers = [f'{names.ROUTE}="{_escape(route)}"']
        if method:
            matchers.insert(0, f'{names.METHOD}="{_escape(method.upper())}"')
        found.append(",".join(m for m in (*matchers, extra) if m))
    return found


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _rate_sum(metric: str, selectors: list[str], window: str) -> str:
    parts = [f"rate({metric}{{{s}}}[{window}])" if s else f"rate({metric}[{window}])"
             for s in selectors]  # fmt: skip
    return f"sum({' or '.join(parts)})"


def bad_ratio_expr(objective: Objective, window: str) -> str:
    """PromQL: the share of ``objective``'s requests that were bad over ``window``."""
    if objective.kind == "availability":
        total = _rate_sum(names.HTTP_REQUESTS, _selectors(objective), window)
        bad = _rate_sum(names.HTTP_REQUESTS, _selectors(objective, f'{names.STATUS}=~"5.."'),
                        window)  # fmt: skip
        return f"({bad} or vector(0)) / {total}"  # no 5xx series at all: none bad, not no data
    count = _rate_sum(f"{names.HTTP_DURATION}_count", _selectors(objective), window)
    fast = _rate_sum(
        f"{names.HTTP_DURATION}_bucket", _selectors(objective, f'le="{le_for(objective)}"'), window
    )
    return f"({count} - {fast}) / {count}"


def sli_rules(window_s: int = SLI_WINDOW_S) -> list[dict[str, Any]]:
    """The guide's SLIs: throughput, 5xx ratio, success ratio, P95/P99 by route; loop lag."""
    w = duration(window_s)
    req, dur, lag = names.HTTP_REQUESTS, names.HTTP_DURATION, names.LOOP_LAG
    by_route = f"{names.METHOD}, {names.ROUTE}"
    return [
        {"record": f"lagscope:http_requests:rate{w}",
         "expr": f"sum by ({by_route}) (rate({req}[{w}]))"},
        {"record": f"lagscope:http_requests_5xx:ratio_rate{w}",
         "expr": f'sum(rate({req}{{{names.STATUS}=~"5.."}}[{w}])) / sum(rate({req}[{w}]))'},
        {"record": f"lagscope:http_success:ratio_rate{w}",
         "expr": f'1 - (sum(rate({req}{{{names.STATUS}=~"5.."}}[{w}])) or vector(0)) '
                 f"/ sum(rate({req}[{w}]))"},
        *({"record": f"lagscope:http_request_duration_seconds:p{q}_rate{w}",
           "expr": f"histogram_quantile(0.{q}, sum by (le, {by_route}) "
                   f"(rate({dur}_bucket[{w}])))"} for q in ("95", "99")),
        {"record": f"lagscope:loop_lag_seconds:p99_rate{w}",
         "expr": f"histogram_quantile(0.99, sum by (le, {names.WORKER}) "
                 f"(rate({lag}_bucket[{w}])))"},
        {"record": f"lagscope:loop_blocked_seconds:rate{w}",
         "expr": f"sum by ({names.LOCATION}, {names.ENDPOINT}, {names.CAUSE}) "
                 f"(rate({names.LOOP_BLOCKED}[{w}]))"},
    ]  # fmt: skip


def alert_name(objective: str, rule: str) -> str:
    """``latency_p99`` + ``fast-burn`` -> ``SloLatencyP99FastBurn`` (a valid alert name)."""
    words = re.split(r"[^A-Za-z0-9]+", f"{objective} {rule}")
    return "Slo" + "".join(w[:1].upper() + w[1:] for w in words if w)


def _labels(objective: Objective) -> dict[str, str]:
    return {"slo": objective.name, "objective": objective.text}


def slo_group(
    objective: Objective, rules: Sequence[BurnRateRule], *, time_scale: float, period_s: float
) -> dict[str, Any]:
    """The recording rules of one objective's windows and its burn-rate alerts."""
    windows: dict[str, None] = {}
    alerts = []
    for rule in rules:
        long_w = duration(_scaled(rule.long_s, time_scale, what=f"{rule.name}'s long window"))
        short_w = duration(_scaled(rule.short_s, time_scale, what=f"{rule.name}'s short window"))
        windows.update({long_w: None, short_w: None})
        selector = f'{{slo="{_escape(objective.name)}"}}'
        limit = f"{rule.factor:g} * {objective.budget:.6g}"
        alert: dict[str, Any] = {
            "alert": alert_name(objective.name, rule.name),
            "expr": f"{RECORD_BAD}{long_w}{selector} > {limit}\n"
                    f"and\n{RECORD_BAD}{short_w}{selector} > {limit}",
        }  # fmt: skip
        if rule.for_s:
            alert["for"] = duration(_scaled(rule.for_s, time_scale, what=f"{rule.name}'s for"))
        alert["labels"] = {"severity": rule.severity, "burn_rule": rule.name}
        share = rule.factor * rule.long_s / period_s
        alert["annotations"] = {
            "summary": f"{objective.name} ({objective.text}) burns its error budget over "
                       f"{rule.factor:g}x too fast ({long_w} and {short_w} windows)",
            "description": f"More than {share * 100:.3g}% of the {duration(period_s)} budget of "
                           f"{objective.name} would be gone in {duration(rule.long_s)} "
                           "of production time at this rate.",
        }  # fmt: skip
        alerts.append(alert)
    period = duration(_scaled(period_s, time_scale, what="the SLO period"))
    windows[period] = None
    records = [
        {"record": f"{RECORD_BAD}{w}", "expr": bad_ratio_expr(objective, w),
         "labels": _labels(objective)}
        for w in sorted(windows, key=_window_seconds)
    ]  # fmt: skip
    selector = f'{{slo="{_escape(objective.name)}"}}'
    records += [
        {"record": RECORD_BUDGET, "expr": f"vector({objective.budget:.6g})",
         "labels": _labels(objective)},
        {"record": RECORD_REMAINING,
         "expr": f"1 - {RECORD_BAD}{period}{selector} / {objective.budget:.6g}",
         "labels": _labels(objective)},
    ]  # fmt: skip
    return {"name": f"lagscope-slo-{objective.name}", "rules": [*records, *alerts]}


def _window_seconds(window: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)", window).groups()  # type: ignore[union-attr]
    size = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return int(number) * size


def gameday_rules(rules: Sequence[BurnRateRule], *, time_scale: float) -> list[BurnRateRule]:
    """A game day's rules with their windows back in production time (the file's ``1h``)."""
    return [
        BurnRateRule(
            name=r.name, slo=r.slo, long_s=round(r.long_s * time_scale),
            short_s=round(r.short_s * time_scale), factor=r.factor,
            for_s=round(r.for_s * time_scale), severity=r.severity,
        )
        for r in rules
    ]  # fmt: skip


def build_rules(
    objectives: Sequence[Objective],
    rules: Sequence[BurnRateRule] | None = None,
    *,
    period_s: float = PERIOD_S,
    time_scale: float = 1.0,
    notes: Sequence[str] = (),
) -> RuleSet:
    """Every rule group for ``objectives``: the SLIs, then one group per objective.

    ``rules`` are the burn-rate rules (windows in seconds of production time); None
    gives the workbook's, scaled to ``period_s``.  ``time_scale`` divides every window.
    """
    if time_scale <= 0:
        raise UsageError(f"--time-scale must be greater than zero (got {time_scale:g})")
    all_notes = list(notes)
    if rules is None:
        rules, more = workbook_rules(objectives, period_s=period_s)
        all_notes += more
    groups = [{"name": "lagscope-sli", "rules": sli_rules()}]
    for objective in objectives:
        mine = [r for r in rules if r.slo == objective.name]
        if objective.kind == "latency":
            le_for(objective)  # a threshold off the buckets fails here, with the choices
        if mine:
            groups.append(slo_group(objective, mine, time_scale=time_scale, period_s=period_s))
        else:
            all_notes.append(f"{objective.name} ({objective.text}): no burn-rate rule")
    return RuleSet(groups=groups, notes=all_notes)
