"""A sweep's results and its recommendation, from ``sweep.json`` state (pure)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lagscope.reports.rate_search import Step, outcome
from lagscope.reports.wording import change, plural

# More workers "help" only when they add at least this much sustainable rate.
KNEE_SHARE = 0.9


def slo_failure(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How the SLO failed in the steps that failed it (None when none did).

    ``{steps, lowest_rate, checks, check, culprit}``: how many steps failed, the lowest rate
    that failed, how many steps each check failed in, the check that failed most (a tie: the
    one named first), and the endpoint its offending requests mostly came from at the lowest
    rate that recorded one (``{endpoint, share, requests, of, rate}``; None before sweeps
    recorded it).
    """
    failed = sorted((s for s in steps if not s["passed"] and s["valid"]), key=lambda s: s["rate"])
    if not failed:
        return None
    checks = Counter(name for s in failed for name in s.get("failed_checks") or [])
    check = max(checks, key=lambda n: checks[n]) if checks else None  # first counted wins a tie
    culprit = next(
        ({**s["culprits"][check], "rate": s["rate"]} for s in failed
         if check in (s.get("culprits") or {})),
        None,
    )  # fmt: skip
    return {"steps": len(failed), "lowest_rate": failed[0]["rate"], "checks": dict(checks),
            "check": check, "culprit": culprit}  # fmt: skip


def point_result(point: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of ``results``: the configuration and its figures at the highest passing rate."""
    history = [Step(s["rate"], s["kind"], s["passed"], s["valid"]) for s in steps]
    found = outcome(history)
    at_max = [s for s in steps if found.max_rate is not None and s["rate"] == found.max_rate]
    best = at_max[-1] if at_max else {}
    reasons = [s["reason"] for s in steps if not s["valid"]]
    return {
        **point,
        "max_rate_rps": found.max_rate,
        "confirmed": found.confirmed,
        "p99_ms_at_max": best.get("p99_ms"),
        "p95_ms_at_max": best.get("p95_ms"),
        "error_rate_at_max": best.get("error_rate"),
        "cpu_pct_at_max": best.get("cpu_pct"),
        "rss_mb_at_max": best.get("rss_mb"),
        "run_dir_at_max": best.get("run_dir"),
        "steps": len(steps),
        "valid": found.valid,
        "invalid_reason": reasons[0] if reasons else None,
        "slo_failure": slo_failure(steps),
    }


def results(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [point_result(entry["point"], entry["steps"]) for entry in state["points"].values()]


def _name(row: dict[str, Any]) -> str:
    plural = "s" if row["workers"] > 1 else ""
    tp = f", {row['threadpool']} threads" if row.get("threadpool") is not None else ""
    return f"{row['workers']} {row['server']} worker{plural} with {row['loop']}{tp}"


def _family(rows: list[dict[str, Any]], like: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows that differ from ``like`` only in their worker count, fewest workers first."""
    key = (like["server"], like["loop"], like.get("threadpool"))
    same = [r for r in rows if (r["server"], r["loop"], r.get("threadpool")) == key]
    return sorted(same, key=lambda r: r["workers"])


def _explain(knee: dict[str, Any], family: list[dict[str, Any]], cores: str) -> str:
    base = family[0]
    if knee is not base:
        ratio = knee["max_rate_rps"] / base["max_rate_rps"]
        text = (
            f"{_name(knee)}: {ratio:.2f}× {base['workers']} worker "
            f"({knee['max_rate_rps']:g} vs {base['max_rate_rps']:g} req/s under the SLO)"
        )
        beyond = [r for r in family if r["workers"] > knee["workers"]]
        if beyond:
            gain = beyond[-1]["max_rate_rps"] / knee["max_rate_rps"] - 1
            text += f"; {beyond[-1]['workers']} workers add {change(gain)}{cores}"
        return text + "."
    more = family[1:]
    if not more:
        return f"{_name(base)}: {base['max_rate_rps']:g} req/s under the SLO."
    gains = ", ".join(
        f"{r['workers']} workers {r['max_rate_rps'] / base['max_rate_rps']:.2f}×" for r in more
    )
    return (
        f"{_name(base)}: more workers buy little ({gains}){cores}; the limit is not this "
        "server's CPU but something they share (a dependency, a pool, the scenario)."
    )


def recommend(
    rows: list[dict[str, Any]], *, cpu_count: int | None, ceiling: float | None = None
) -> dict[str, Any]:
    """The configuration to run and why: the fewest workers within 10% of the best rate."""
    usable = [r for r in rows if r["valid"] and r["max_rate_rps"] is not None]
    if not usable:
        return {"text": nothing_to_recommend(rows), "choice": None}
    if all(r.get("slo_failure") is None for r in usable):
        return {"text": no_limit_found(usable), "choice": None}
    best = max(usable, key=lambda r: r["max_rate_rps"])
    family = _family(usable, best)
    knee = next(r for r in family if r["max_rate_rps"] >= KNEE_SHARE * best["max_rate_rps"])
    text = _explain(knee, family, f" on {cpu_count} cores" if cpu_count else "")
    if ceiling is not None and knee["max_rate_rps"] >= ceiling:
        text += (
            f" It reached the highest rate tried ({ceiling:g} req/s, --max-rate): "
            "raise it to find the real limit."
        )
    rivals = [
        r for r in usable if r["server"] != knee["server"] and r["workers"] == knee["workers"]
    ]
    if rivals:
        rival = max(rivals, key=lambda r: r["max_rate_rps"])
        diff = rival["max_rate_rps"] / knee["max_rate_rps"] - 1
        text += f" {rival['server']} with as many workers: {change(diff)}."
    return {
        "text": text,
        "choice": {k: knee[k] for k in ("server", "loop", "threadpool", "workers", "max_rate_rps")},
        "speedup_vs_fewest_workers": round(knee["max_rate_rps"] / family[0]["max_rate_rps"], 3),
    }


def no_limit_found(usable: list[dict[str, Any]]) -> str:
    """No configuration failed the SLO at any rate: every rate is a lower bound, and no
    comparison of them says anything about the workers."""
    top = max(r["max_rate_rps"] for r in usable)
    return (
        f"Inconclusive: no configuration failed the SLO at any rate tried (up to {top:g} "
        "req/s), so none of their limits was found and they cannot be compared. Raise "
        "--start-rate or --max-steps (or --max-rate) until each one fails."
    )


def _slo_failed(failing: list[dict[str, Any]]) -> str:
    """``down to 5 req/s: p99<500ms failed in 4 of 4 steps, mostly on GET /slow (…)``."""
    failures = [r["slo_failure"] for r in failing if r.get("slo_failure")]
    if not failures:
        return ""
    text = f", down to {min(f['lowest_rate'] for f in failures):g} req/s"
    checks: Counter[str] = Counter()
    for f in failures:
        checks.update(f["checks"])
    if not checks:
        return text
    check = max(checks, key=lambda n: checks[n])
    steps = sum(f["steps"] for f in failures)
    text += f": {check} failed in {checks[check]} of {plural(steps, 'step')}"
    culprits = [f["culprit"] for f in failures if f["check"] == check and f["culprit"]]
    if culprits:
        c = min(culprits, key=lambda c: c["rate"])
        text += (
            f", mostly on {c['endpoint']} ({c['share']:.0%} of the {c['of']} at "
            f"{c['rate']:g} req/s)"
        )
    return text


def nothing_to_recommend(rows: list[dict[str, Any]]) -> str:
    """Why no configuration can be recommended: the SLO failed at every rate tried (which
    check, on which endpoint), the load generator was the limit, or no step ran."""
    measured = [r for r in rows if r.get("steps")]
    failing = [r for r in measured if r["valid"] and r["max_rate_rps"] is None]
    limited = [r for r in measured if not r["valid"]]
    if not measured:
        return (
            "No configuration was measured: the sweep stopped before its first step ended "
            "(lagscope sweep --resume DIR continues it)."
        )
    limit = (
        f"the load generator, not the target, was the limit ({limited[0]['invalid_reason']}): "
        "give it more processes (--load-procs) or more cores."
        if limited
        else ""
    )
    if not failing:
        return f"No rate to recommend: on every configuration {limit}"
    failed = f"{_slo_failed(failing)}."
    if not limited:
        return f"No configuration met the SLO at any rate tried{failed}"
    return (
        f"No rate to recommend. {plural(len(failing), 'configuration')} met the SLO at no "
        f"rate tried{failed} On {len(limited)} more, {limit}"
    )
