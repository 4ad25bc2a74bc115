"""One test's stalls judged and said the way lagscope says a finding.

A stall over the threshold fails (or warns) the test unless its location is allowed.  A
stall that ended before the watchdog could sample it has a duration but no location: it
is reported, never judged (nothing to name, nothing to allow; on a busy machine most are
the machine's, barely over the threshold).  So is a stall that would be under the threshold
but for the loop thread's waits for a CPU: the machine's other work, not the test's.  Pure
functions of the stall events (the probe's ``build_stall_event``, as in ``stalls.jsonl``)
and the test's options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lagscope.stalls import DOING, REMEDY, machine_made, short_stack

Stall = dict[str, Any]
UNSAMPLED = "<not sampled>"  # the location of a stall over before its stack was sampled


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """A test's stalls over its threshold: those that fail (or warn) it, those allowed, and
    those not sampled."""

    threshold_ms: float
    stalls: list[Stall] = field(default_factory=list)
    allowed: list[Stall] = field(default_factory=list)
    unsampled: list[Stall] = field(default_factory=list)
    machine: list[Stall] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.stalls or self.allowed or self.unsampled or self.machine)

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold_ms": self.threshold_ms,
            "stalls": self.stalls,
            "allowed": self.allowed,
            "unsampled": self.unsampled,
            "machine": self.machine,
        }


def location(stall: Stall) -> str:
    return str(stall.get("location") or UNSAMPLED)


def is_allowed(stall: Stall, allow: tuple[str, ...]) -> bool:
    """Whether the stall's location is ``path:line`` in ``allow``, or in a ``path`` of it."""
    where = stall.get("location")
    return where is not None and (where in allow or where.rpartition(":")[0] in allow)


def judge(stalls: list[Stall], *, threshold_ms: float, allow: tuple[str, ...]) -> Verdict:
    machine = [s for s in stalls if machine_made(s, threshold_ms=threshold_ms)]
    own = [s for s in stalls if not machine_made(s, threshold_ms=threshold_ms)]
    located = [s for s in own if s.get("location") is not None]
    return Verdict(
        threshold_ms=threshold_ms,
        stalls=[s for s in located if not is_allowed(s, allow)],
        allowed=[s for s in located if is_allowed(s, allow)],
        unsampled=[s for s in own if s.get("location") is None],
        machine=machine,
    )


def by_location(stalls: list[Stall]) -> list[list[Stall]]:
    """The stalls grouped by blamed location, the group with the worst stall first; each
    group's stalls worst first."""
    groups: dict[str, list[Stall]] = {}
    for stall in stalls:
        groups.setdefault(location(stall), []).append(stall)
    ordered = [sorted(g, key=lambda s: -float(s["duration_ms"])) for g in groups.values()]
    return sorted(ordered, key=lambda g: -float(g[0]["duration_ms"]))


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def _times(stalls: list[Stall], *, threshold_ms: float) -> str:
    """``"2 stalls over the 20 ms threshold, 150 ms blocked, worst 104 ms"``."""
    durations = sorted((float(s["duration_ms"]) for s in stalls), reverse=True)
    count = f"{len(durations)} stall{'s' if len(durations) != 1 else ''}"
    worst = f", worst {_ms(durations[0])}" if len(durations) > 1 else ""
    return f"{count} over the {_ms(threshold_ms)} threshold, {_ms(sum(durations))} blocked{worst}"


def _cause(stall: Stall) -> str | None:
    """The cause measured for the stall's most frequent stack, else the stall's."""
    stacks = stall.get("stacks") or []
    return (stacks[0].get("cause") if stacks else None) or stall.get("cause")


def _named(stall: Stall) -> str:
    function = stall.get("function")
    return f"{location(stall)} ({function})" if function else location(stall)


def finding_lines(group: list[Stall], *, threshold_ms: float) -> list[str]:
    """One location's stalls as a finding: what, evidence, the worst one's stack, remedy."""
    worst = group[0]
    times = _times(group, threshold_ms=threshold_ms)
    cause = _cause(worst) or "wait"
    share = worst.get("cpu_share")
    on_cpu = "" if share is None else f"; the loop thread was on a CPU {share:.0%} of the time"
    lines = [
        f"event_loop_blocking at {_named(worst)}",
        f"  The event loop was blocked {DOING.get(cause, DOING['wait'])} at {_named(worst)}.",
        f"  evidence: {times}{on_cpu} ({cause}).",
    ]
    stacks = worst.get("stacks") or []
    if stacks:
        lines.append("  stack of the worst stall, from the test inward:")
        lines += [f"    {line}" for line in short_stack(stacks[0]["frames"])]
    lines.append(f"  remedy: {REMEDY.get(cause, REMEDY['wait'])}")
    lines.append(f'  known and accepted? @pytest.mark.lagscope(allow=["{location(worst)}"])')
    return lines


def failure_text(verdict: Verdict) -> str:
    """The failure a test gets: a heading, then one finding per blamed location."""
    threshold_ms = verdict.threshold_ms
    lines = [f"lagscope: this test stalled the event loop: "
             f"{_times(verdict.stalls, threshold_ms=threshold_ms)}"]  # fmt: skip
    for group in by_location(verdict.stalls):
        lines += finding_lines(group, threshold_ms=threshold_ms)
    for group in by_location(verdict.allowed):
        lines.append(f"allowed: {_times(group, threshold_ms=threshold_ms)} at {_named(group[0])}")
    if verdict.unsampled:
        lines.append(unsampled_text(verdict))
    if verdict.machine:
        lines.append(machine_text(verdict))
    return "\n".join(lines)


def unsampled_text(verdict: Verdict) -> str:
    return (
        f"not sampled: {_times(verdict.unsampled, threshold_ms=verdict.threshold_ms)}, "
        "each over before the watchdog could sample the loop's stack (not judged)"
    )


def machine_text(verdict: Verdict) -> str:
    return (
        f"the machine's: {_times(verdict.machine, threshold_ms=verdict.threshold_ms)}, each "
        "under the threshold but for the loop thread's waits for a CPU (not judged)"
    )


def warning_text(group: list[Stall], *, threshold_ms: float) -> str:
    """One line per blamed location, for --lagscope-mode=warn."""
    cause = _cause(group[0])
    doing = f" {DOING[cause]}" if cause in DOING else ""
    return (
        f"lagscope: the event loop was blocked{doing} at {_named(group[0])}: "
        f"{_times(group, threshold_ms=threshold_ms)}"
    )
