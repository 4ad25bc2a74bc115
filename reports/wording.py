"""How figures read in words, the same in every output.

One minus sign (U+2212, never ASCII ``-``) for negative values, deltas and changes; a
change of a percentage is written in percentage points (``pp``), a relative change in
percent (``%``); counts carry their noun in the right number (``1 stall``, ``2 stalls``).
"""

from __future__ import annotations

from collections.abc import Sequence

from lagscope.reports.summary_types import Condition

MINUS = "\u2212"
NO_VALUE = "–"  # an en dash: nothing measured


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 stall``, ``36 stalls``, ``1,200 requests``."""
    word = noun if count == 1 else (plural_form or f"{noun}s")
    return f"{count:,} {word}"


def _magnitude(value: float, unit: str) -> str:
    """``abs(value)`` rounded for reading: whole numbers for counts, MB and from 100 up."""
    size = abs(value)
    return f"{size:,.0f}" if unit in ("", "MB") or size >= 100 else f"{size:,.1f}"


def _is_zero(text: str) -> bool:
    return text.strip("0.,") == ""


def quantity(value: float | None, unit: str) -> str:
    """``501.9 ms``, ``1,234 req/s``, ``−3.0 %``; ``–`` when nothing was measured."""
    if value is None:
        return NO_VALUE
    text = _magnitude(value, unit)
    sign = MINUS if value < 0 and not _is_zero(text) else ""
    return f"{sign}{text} {unit}".strip()


def delta(value: float | None, unit: str) -> str:
    """A difference, always signed (``+362 ms``, ``−12 req/s``); a difference of two
    percentages is in percentage points (``+3.2 pp``); ``0 ms`` when it rounds to zero."""
    if value is None:
        return NO_VALUE
    unit = "pp" if unit == "%" else unit
    text = _magnitude(value, unit)
    if _is_zero(text):
        return f"0 {unit}".strip()
    return f"{'+' if value > 0 else MINUS}{text} {unit}".strip()


def change(ratio: float | None) -> str:
    """A relative change, signed: ``+11%``, ``−75%``; ``0%`` when it rounds to zero."""
    if ratio is None:
        return NO_VALUE
    text = f"{abs(ratio) * 100:,.0f}"
    if _is_zero(text):
        return "0%"
    return f"{'+' if ratio > 0 else MINUS}{text}%"


def named(noun: str, names: list[str], plural_form: str | None = None) -> str:
    """``worker 4242``, ``workers 4242, 4243``."""
    word = noun if len(names) == 1 else (plural_form or f"{noun}s")
    return f"{word} {', '.join(names)}"


def conditions(applied: Sequence[Condition]) -> str:
    """The run conditions faults set (run.json's ``conditions``) in words:
    ``slow_downstream sets --downstream-latency 3s; ...``."""
    by_fault: dict[str, list[str]] = {}
    for condition in applied:
        by_fault.setdefault(condition["fault"], []).append(
            f"{condition['flag']} {condition['value']}"
        )
    return "; ".join(f"{fault} sets {' '.join(flags)}" for fault, flags in by_fault.items())
