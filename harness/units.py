"""Parsing of the human units the CLI accepts: durations (``30s``, ``2m``) and times (``20ms``)."""

from __future__ import annotations

import re

from harness.exceptions import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_seconds(text: str, *, what: str, default_unit: str = "s") -> float:
    """Return ``text`` (e.g. ``"30s"``, ``"2m"``, ``"1.5"``) in seconds.

    Raises UsageError naming ``what`` when the text is not a positive duration.
    """
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"{what}: {text!r} is not a duration; use a number with a unit, e.g. 30s, 2m or 20ms"
        )
    value = float(match.group(1)) * _FACTORS[match.group(2) or default_unit]
    if value <= 0:
        raise UsageError(f"{what}: {text!r} must be greater than zero")
    return value


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mb|gb)?\s*$", re.IGNORECASE)


def parse_megabytes(text: str, *, what: str) -> float:
    """Return ``text`` (e.g. ``"512MB"``, ``"1GB"``; bare numbers are MB) in MB (10^6 bytes)."""
    match = _SIZE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(f"{what}: {text!r} is not a memory size; use e.g. 512MB or 1GB")
    unit = (match.group(2) or "mb").lower()
    return float(match.group(1)) * (1000.0 if unit == "gb" else 1.0)


def parse_milliseconds(text: str, *, what: str) -> float:
    """Return ``text`` (e.g. ``"20ms"``, ``"0.05s"``, bare numbers are ms) in milliseconds."""
    return parse_seconds(text, what=what, default_unit="ms") * 1000.0
