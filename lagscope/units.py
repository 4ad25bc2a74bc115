"""Parsing of the human units the CLI accepts: durations (``30s``, ``2m``) and times (``20ms``).

A bare number takes the flag's own unit: seconds for durations (``--duration 5`` is 5 s),
milliseconds for thresholds (``--stall-threshold 20`` is 20 ms); the error says which.
"""

from __future__ import annotations

import re

from lagscope.errors import UsageError

# The sign is matched so that "-5s" is refused as not positive rather than as not a number.
_DURATION = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_UNIT_NAMES = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours"}
_EXAMPLES = {"ms": "20ms or 0.5s", "s": "30s or 2m"}


def parse_seconds(text: str, *, what: str, default_unit: str = "s") -> float:
    """Return ``text`` (e.g. ``"30s"``, ``"2m"``, ``"1.5"``) in seconds.

    A bare number is in ``default_unit``. Raises UsageError naming ``what`` when the text
    is not a positive duration.
    """
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"{what}: {text!r} is not a duration; use a number with a unit (ms, s, m, h), "
            f"e.g. {_EXAMPLES.get(default_unit, '30s')}; a bare number counts as "
            f"{_UNIT_NAMES[default_unit]}"
        )
    value = float(match.group(1)) * _FACTORS[match.group(2) or default_unit]
    if value <= 0:
        raise UsageError(f"{what}: {text!r} must be greater than zero")
    return value


_SIZE = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(mb|gb)?\s*$", re.IGNORECASE)


def parse_megabytes(text: str, *, what: str) -> float:
    """Return ``text`` (e.g. ``"512MB"``, ``"1GB"``; bare numbers are MB) in MB (10^6 bytes)."""
    match = _SIZE.match(text)
    if match is None:
        raise UsageError(f"{what}: {text!r} is not a memory size; use e.g. 512MB or 1GB")
    if float(match.group(1)) <= 0:
        raise UsageError(f"{what}: {text!r} must be greater than zero")
    unit = (match.group(2) or "mb").lower()
    return float(match.group(1)) * (1000.0 if unit == "gb" else 1.0)


def parse_milliseconds(text: str, *, what: str) -> float:
    """Return ``text`` (e.g. ``"20ms"``, ``"0.05s"``, bare numbers are ms) in milliseconds."""
    return parse_seconds(text, what=what, default_unit="ms") * 1000.0
