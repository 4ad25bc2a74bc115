"""What the plugin is asked to do: the session's settings, and one test's (its marker).

Command line over ini over default; a test's ``@pytest.mark.lagscope(...)`` over both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from lagscope import defaults
from lagscope.errors import UsageError
from lagscope.units import parse_milliseconds

Mode = Literal["fail", "warn"]
MODES: tuple[Mode, ...] = ("fail", "warn")
STALL_THRESHOLD = f"{defaults.STALL_THRESHOLD_MS:g}ms"  # as lagscope run --stall-threshold
MARKER = "lagscope"
MARKER_HELP = (
    "lagscope(threshold='20ms', allow=['pkg/mod.py:42'], mode='fail'|'warn'): watch this "
    "async test's event loop (even without --lagscope) and fail it when the loop stalls "
    "above the threshold; stalls at an allowed path:line (or anywhere in an allowed path) "
    "are reported, not failed"
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The session's settings: ``enabled`` watches every async test, not only marked ones."""

    enabled: bool
    threshold_ms: float
    mode: Mode
    json_path: str | None


@dataclass(frozen=True, kw_only=True)
class ItemOptions:
    """How one test is watched and judged."""

    threshold_ms: float
    mode: Mode
    allow: tuple[str, ...] = ()


def _threshold(text: object, *, what: str) -> float:
    try:
        return parse_milliseconds(str(text), what=what)
    except UsageError as err:
        raise pytest.UsageError(str(err)) from None


def _mode(text: object, *, what: str) -> Mode:
    for mode in MODES:
        if text == mode:
            return mode
    raise pytest.UsageError(f"{what}: {text!r} is not a mode; use fail or warn")


def settings(config: pytest.Config) -> Settings:
    """The session's settings from the command line and the ini file; a bad value is a
    usage error that names the option."""
    option = config.option
    threshold = option.lagscope_threshold or config.getini("lagscope_threshold")
    what = "--lagscope-threshold" if option.lagscope_threshold else "ini lagscope_threshold"
    mode = option.lagscope_mode or config.getini("lagscope_mode")
    mode_what = "--lagscope-mode" if option.lagscope_mode else "ini lagscope_mode"
    return Settings(
        enabled=bool(option.lagscope or config.getini("lagscope")),
        threshold_ms=_threshold(threshold, what=what),
        mode=_mode(mode, what=mode_what),
        json_path=option.lagscope_json or config.getini("lagscope_json") or None,
    )


def options_for(item: pytest.Item, session: Settings) -> ItemOptions:
    """``session``'s settings as ``item``'s markers tune them: a threshold or mode from the
    closest marker that gives one (function over class over module), every marker's allow."""
    where = f"{item.nodeid}: @pytest.mark.lagscope"
    kwargs: dict[str, Any] = {}
    allow: list[str] = []
    for marker in item.iter_markers(MARKER):  # closest first
        unknown = sorted(set(marker.kwargs) - {"threshold", "allow", "mode"})
        if unknown or marker.args:
            named = f" (not {', '.join(f'{k}=' for k in unknown)})" if unknown else ""
            raise pytest.UsageError(
                f"{where}: takes only threshold=, allow= and mode= keywords{named}, "
                f"e.g. @pytest.mark.lagscope(threshold='50ms', allow=['app.py:42'])"
            )
        given = marker.kwargs.get("allow", ())
        if isinstance(given, str) or not all(isinstance(a, str) for a in given):
            raise pytest.UsageError(
                f"{where}: allow= takes a list of 'path:line' or 'path' strings"
            )
        allow += given
        kwargs = {**marker.kwargs, **kwargs}
    threshold_ms = (
        _threshold(kwargs["threshold"], what=f"{where}(threshold=...)")
        if "threshold" in kwargs
        else session.threshold_ms
    )
    mode = _mode(kwargs["mode"], what=f"{where}(mode=...)") if "mode" in kwargs else session.mode
    return ItemOptions(threshold_ms=threshold_ms, mode=mode, allow=tuple(allow))
