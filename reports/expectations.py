"""What a game day expects to happen, written as short sentences, and the judgement of each.

Accepted forms (names may be quoted; durations as ``45s``, ``2m``):

    alert NAME fires within DURATION of PHASE
    alert NAME resolves within DURATION of PHASE
    alert NAME does not fire before PHASE
    alert NAME never fires
    page fires within DURATION of PHASE       (any alert of severity "page")
    slo NAME recovers within DURATION of PHASE
    slo NAME budget consumed below PERCENT%

"recovers" means the SLI is back within its objective (see ``lagscope.reports.gameday``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lagscope.reports.burnrate import Transition
from lagscope.reports.summary_types import ExpectationResult

from lagscope.errors import UsageError
from lagscope.units import parse_seconds


def _s(seconds: float) -> str:
    return f"{seconds:.1f}".removesuffix(".0")


ExpectKind = Literal[
    "fires_within", "resolves_within", "quiet_before", "never_fires", "recovers_within",
    "budget_below", "page_within",
]  # fmt: skip

_NAME = r'"?(?P<name>[\w.-]+)"?'
_PHASE = r'"?(?P<phase>[\w.-]+)"?'
_DUR = r"(?P<dur>\d+(?:\.\d+)?\s*(?:ms|s|m|h)?)"
_FORMS: list[tuple[ExpectKind, re.Pattern[str]]] = [
    ("fires_within", re.compile(rf"^alert\s+{_NAME}\s+fires\s+within\s+{_DUR}\s+of\s+{_PHASE}$")),
    (
        "resolves_within",
        re.compile(rf"^alert\s+{_NAME}\s+resolves\s+within\s+{_DUR}\s+of\s+{_PHASE}$"),
    ),
    ("quiet_before", re.compile(rf"^alert\s+{_NAME}\s+does\s+not\s+fire\s+before\s+{_PHASE}$")),
    ("never_fires", re.compile(rf"^alert\s+{_NAME}\s+never\s+fires$")),
    ("page_within", re.compile(rf"^(?P<name>page)\s+fires\s+within\s+{_DUR}\s+of\s+{_PHASE}$")),
    (
        "recovers_within",
        re.compile(rf"^slo\s+{_NAME}\s+recovers\s+within\s+{_DUR}\s+of\s+{_PHASE}$"),
    ),
    (
        "budget_below",
        re.compile(rf"^slo\s+{_NAME}\s+budget\s+consumed\s+below\s+(?P<pct>\d+(?:\.\d+)?)\s*%$"),
    ),
]
FORMS_HELP = (
    "'alert NAME fires within 45s of PHASE', 'alert NAME resolves within 30s of PHASE', "
    "'alert NAME does not fire before PHASE', 'alert NAME never fires', "
    "'page fires within 30s of PHASE', "
    "'slo NAME recovers within 30s of PHASE', 'slo NAME budget consumed below 5%'"
)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    text: str
    kind: ExpectKind
    subject: str  # the alert's or the SLO's name
    phase: str | None = None
    seconds: float | None = None
    percent: float | None = None

    @property
    def about_alert(self) -> bool:
        return self.text.split()[0].lower() in ("alert", "page")


def parse_expectation(text: str) -> Expectation:
    """One expectation; raise UsageError listing the accepted forms when ``text`` is none."""
    normal = " ".join(text.split())
    for kind, pattern in _FORMS:
        match = pattern.match(normal)
        if match is None:
            continue
        found = match.groupdict()
        return Expectation(
            text=normal,
            kind=kind,
            subject=found["name"],
            phase=found.get("phase"),
            seconds=parse_seconds(found["dur"], what=repr(normal)) if found.get("dur") else None,
            percent=float(found["pct"]) if found.get("pct") else None,
        )
    raise UsageError(f"expectation {text!r} is not understood; write one of {FORMS_HELP}")


@dataclass(frozen=True, kw_only=True)
class Measured:
    """What the exercise measured, in seconds from its origin."""

    phases: dict[str, float]  # phase name -> when it started (phases that never started: absent)
    alerts: dict[str, list[Transition]]
    pages: tuple[str, ...] = ()  # the alerts of severity "page"
    recovered: dict[tuple[str, str], float | None]  # (slo, phase) -> when back within objective
    budget_consumed: dict[str, float]  # slo -> share of its period's budget


def _first(changes: list[Transition], *, firing: bool, after: float) -> float | None:
    return next((c.at for c in changes if c.firing == firing and c.at >= after), None)


def _firing_at(changes: list[Transition], instant: float) -> bool:
    state = False
    for change in changes:
        if change.at > instant:
            break
        state = change.firing
    return state


def _page_within(e: Expectation, m: Measured, start: float) -> tuple[bool, str]:
    assert e.seconds is not None
    fired = sorted(
        (at, name)
        for name in m.pages
        if (at := _first(m.alerts[name], firing=True, after=start)) is not None
    )
    if not fired:
        return False, f"no page fired after {e.phase}"
    delay = fired[0][0] - start
    return delay <= e.seconds, f"{fired[0][1]} paged {_s(delay)} s after {e.phase}"


def _about_alert(e: Expectation, m: Measured, start: float) -> tuple[bool, str]:
    if e.kind == "page_within":
        return _page_within(e, m, start)
    changes = m.alerts[e.subject]
    if e.kind == "never_fires":
        fired = _first(changes, firing=True, after=0.0)
        return fired is None, "never fired" if fired is None else f"fired at {_s(fired)} s"
    if e.kind == "quiet_before":
        fired = _first(changes, firing=True, after=0.0)
        early = fired is not None and fired < start
        return not early, f"first fired at {_s(fired)} s" if fired is not None else "never fired"
    assert e.seconds is not None
    if e.kind == "fires_within":
        if _firing_at(changes, start):
            return False, f"was already firing when {e.phase} started (false alarm before it)"
        fired = _first(changes, firing=True, after=start)
        if fired is None:
            return False, f"never fired after {e.phase}"
        delay = fired - start
        return delay <= e.seconds, f"fired {_s(delay)} s after {e.phase}"
    resolved = _first(changes, firing=False, after=start)
    if not _firing_at(changes, start) and _first(changes, firing=True, after=start) is None:
        return True, f"was not firing at {e.phase}"
    if resolved is None:
        return False, f"still firing at the end, {e.phase} started at {_s(start)} s"
    delay = resolved - start
    return delay <= e.seconds, f"resolved {_s(delay)} s after {e.phase}"


def judge(e: Expectation, m: Measured) -> ExpectationResult:
    """``{text, passed, actual}`` for one expectation."""
    if e.kind == "budget_below":
        assert e.percent is not None
        used = 100.0 * m.budget_consumed[e.subject]
        passed, actual = used < e.percent, f"{used:.3g}% of the budget consumed"
    elif e.phase is not None and e.phase not in m.phases:
        passed, actual = False, f"phase {e.phase} never started (the exercise stopped early)"
    elif e.about_alert:
        passed, actual = _about_alert(e, m, m.phases.get(e.phase or "", 0.0))
    else:
        assert e.phase is not None
        assert e.seconds is not None
        back = m.recovered[(e.subject, e.phase)]
        if back is None:
            passed, actual = False, f"not back within objective after {e.phase}"
        else:
            delay = back - m.phases[e.phase]
            passed, actual = (
                delay <= e.seconds,
                f"back within objective {_s(delay)} s after {e.phase}",
            )
    return {"text": e.text, "passed": bool(passed), "actual": actual}
