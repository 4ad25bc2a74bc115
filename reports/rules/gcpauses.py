"""``gc_pauses``: collections of the garbage collector stalled the event loop.

Read from ``gc.csv`` (every collection, timed by the probe in every worker): the pauses
(at least as long as the stall threshold, and working half of it on the CPU), per
generation, their share of the loop's time and of the tail latency, and the stalls put on
the collector (``reports.gcpauses``) with the line they interrupted, which is context, not
the culprit.
"""

from __future__ import annotations

from lagscope.reports.findings import Figures, Finding
from lagscope.reports.gcpauses import gc_location
from lagscope.reports.summary_types import GcTail, GenerationFigures
from lagscope.reports.wording import plural

# Pauses recur: one long full collection in a short run is a shared machine's or a warm-up's
# as often as the app's.
MIN_PAUSES = 3
MIN_SHARE = 0.005  # of the loop's time spent in pauses over the threshold
CRITICAL_SHARE = 0.05
REMEDY = (
    "Keep the collector off the long-lived heap: call `gc.freeze()` once start-up has built "
    "its caches (in a pre-fork server, before the workers fork, so their pages stay shared); "
    "hold fewer long-lived container objects (rows as tuples, bytes or arrays rather than "
    "graphs of dicts and objects) and no cyclic garbage (drop back-references or use "
    "`weakref`), so a full collection has little to walk; tune `gc.set_threshold()` only "
    "after measuring."
)


def _generation_words(gen: str, figures: GenerationFigures, threshold_ms: float) -> str:
    return (
        f"gen{gen}: {plural(figures['pauses'], 'pause')} ≥ {threshold_ms:g} ms, "
        f"{figures['pauses_ms']:,.0f} ms in total, longest {figures['max_ms']:,.0f} ms "
        f"(of {plural(figures['collections'], 'collection')})"
    )


def gc_pauses(fig: Figures) -> list[Finding]:
    gc = fig.gc
    if not gc.get("recorded") or not gc.get("pauses"):
        return []
    if gc["pauses"] < MIN_PAUSES or gc["pauses_share"] < MIN_SHARE:
        return []
    threshold = float(gc["threshold_ms"])
    gens = {g: f for g, f in gc["generations"].items() if f["pauses"]}
    worst = max(gens, key=lambda g: gens[g]["pauses_ms"])
    tail: GcTail | None = gc.get("tail")
    workers = max(int(fig.loop.get("workers") or 1), 1)
    return [
        {
            "kind": "gc_pauses",
            "severity": "critical" if gc["pauses_share"] >= CRITICAL_SHARE else "warning",
            "summary": (
                f"Garbage collection paused the event loop {plural(gc['pauses'], 'time')} for "
                f"{threshold:g} ms or more ({gc['pauses_ms']:,.0f} ms, "
                f"{gc['pauses_share']:.1%} of the loop's time"
                + (f" over {plural(workers, 'worker')}" if workers > 1 else "")
                + f"), mostly {'full collections' if worst == '2' else f'gen{worst}'} "
                f"({gc_location(int(worst))})."
            ),
            "evidence": (
                "; ".join(_generation_words(g, gens[g], threshold) for g in sorted(gens))
                + (
                    f"; {plural(gc['stalls'], 'stall')} ({gc['stalls_ms']:,.0f} ms) put on the "
                    "collector"
                    + (
                        f", the line they interrupted (context, not the culprit): {gc['context']}"
                        if gc.get("context")
                        else ""
                    )
                    if gc.get("stalls")
                    else ""
                )
                + (
                    f"; {tail['overlapping']} of the {tail['requests']} requests at or above "
                    f"P99 ({tail['p99_ms']:,.0f} ms) overlapped a pause"
                    if tail and tail.get("requests")
                    else ""
                )
                + f"; every collection together {gc['total_ms']:,.0f} ms ({gc['share']:.1%} "
                "of the loop's time)"
                + (
                    f"; {plural(gc['held_up'], 'more collection')} as long, mostly off the CPU "
                    "(the machine held the collector up), not counted"
                    if gc.get("held_up")
                    else ""
                )
                + "."
            ),
            "location": gc_location(int(worst)),
            "endpoint": None,
            "cause": "gc",
            "remedy": REMEDY,
        }
    ]
