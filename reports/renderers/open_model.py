"""Text shared by the renderers for open-model (``--rate``) runs; nothing in closed mode."""

from __future__ import annotations

from lagscope.reports.open_model import gap_sentence
from lagscope.reports.summary_types import PERCENTILE_KEYS, Summary
from lagscope.reports.wording import plural

CORRECTED_NOTE = "corrected: counted from each request's intended send time"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


LATENCY_TITLE = "Latency (ms, exact, steady window)"


def latency_title(summary: Summary) -> str:
    """The percentile table's title, the same in every output: its unit, and in rate mode
    which latency it shows."""
    if not summary.get("open_model"):
        return LATENCY_TITLE
    return f"{LATENCY_TITLE[:-1]}; {CORRECTED_NOTE})"


def uncorrected_row(summary: Summary) -> list[str] | None:
    """The aggregate's uncorrected percentiles as a table row (count columns left blank)."""
    aggregate = summary["requests"].get("aggregate") or {}
    uncorrected = aggregate.get("uncorrected")
    if not summary.get("open_model") or not uncorrected:
        return None
    return ["all, uncorrected", "", "", ""] + [_ms(uncorrected.get(k)) for k in PERCENTILE_KEYS]


def sender_lines(summary: Summary) -> list[tuple[str, str]]:
    """``(level, text)`` lines on the plan and how it was kept; level is info or warning."""
    sender = summary.get("open_model")
    if not sender:
        return []
    late, worst = sender["late_threshold_ms"], _ms(sender["worst_lateness_ms"])
    lines = [
        ("info", f"open model: {sender['rate']} req/s, {sender['arrivals']} arrivals, "
                 f"{plural(sender['procs'], 'load process', 'load processes')}; "
                 f"sent {sender['sent_rps']:.1f} req/s; "
                 f"send lag p50 {_ms(sender['send_lag_p50_ms'])} ms, "
                 f"p99 {_ms(sender['send_lag_p99_ms'])} ms; {sender['late_sends']} late sends "
                 f"(>{late:g} ms), worst {worst} ms; "
                 f"pool {sender['pool_size']} of {sender['max_users']} users"),
    ]  # fmt: skip
    gap = gap_sentence(summary["requests"].get("aggregate") or {}, sender)
    if gap is not None:
        lines.append(("info", gap))
    if sender["cap_reached"]:
        lines.append(("warning", f"every user of the pool was busy ({sender['waits_for_user']} "
                                 f"arrivals waited for one): the cap of {sender['max_users']} "
                                 "users bound; raise --max-users for an open model"))  # fmt: skip
    if sender["unfinished"]:
        lines.append(("warning", f"{sender['unfinished']} arrivals had no response when the "
                                 "plan ended; they count as failed requests (UNFINISHED), "
                                 "timed from their slot to the end of the plan"))  # fmt: skip
    return lines
