"""The faults the probe's injector can switch on in any app: kinds, parameters, parsing.

One injection is a kind and its parameters.  Users write them two ways, both parsed
here into the same ``Injection``:

    --inject 'dependency_latency host=127.0.0.1:8765 latency=1.5s'        (CLI, repeatable)
    inject = [{ kind = "dependency_latency", host = "127.0.0.1:8765", latency = "1.5s" }]
                                                                          (game-day phase)

The harness hands them to the probe as JSON (``Injection.to_json``: the kind and its
parameters in base units, ``latency_ms``, ``rate_mb_s``, ...); the probe reads them back
with ``from_json``.  ``KINDS`` documents every kind and parameter (README and
docs/injection.md list the same).  Every mistake is one ``UsageError`` line naming where
the spec came from and the key.  Standard library only: the probe imports it.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shlex
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lagscope.errors import UsageError
from lagscope.units import parse_seconds


@dataclass(frozen=True)
class Param:
    name: str  # as users write it
    key: str  # in the JSON the probe reads
    kind: str  # "duration", "probability", "share", "host", "url", "error", "regex", ...
    help: str
    default: Any = None  # None: required unless the kind says otherwise


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    params: tuple[Param, ...]
    finding: str  # the diagnosis kind it produces
    target: str = ""  # "host|url": one of host or url is required


_TARGET = (
    Param("host", "host", "host", "HOST[:PORT] the call goes to; '*' for every host", ""),
    Param("url", "url", "url", "URL prefix the call's URL starts with (instead of host)", ""),
)
_PROBABILITY = Param("probability", "probability", "probability",
                     "share of the matching calls affected, 0 < p <= 1", 1.0)  # fmt: skip

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "dependency_latency",
            "delay outbound HTTP calls to a host or URL prefix (httpx, aiohttp, "
            "requests/urllib3, urllib)",
            (
                *_TARGET,
                Param("latency", "latency_ms", "duration", "added delay, e.g. 1.5s"),
                _PROBABILITY,
            ),
            "slow_dependency",
            target="host|url",
        ),  # fmt: skip
        Kind(
            "dependency_errors",
            "fail outbound HTTP calls to a host or URL prefix with a status or a connection error",
            (
                *_TARGET,
                Param(
                    "error",
                    "error",
                    "error",
                    "HTTP status answered instead (e.g. 503), or 'connect' for a refused "
                    "connection",
                    503,
                ),
                _PROBABILITY,
            ),
            "server_errors",
            target="host|url",
        ),  # fmt: skip
        Kind(
            "db_latency",
            "delay SQLAlchemy statement execution (sync and async engines)",
            (
                Param("latency", "latency_ms", "duration", "added delay per statement, e.g. 300ms"),
                Param(
                    "pattern",
                    "pattern",
                    "regex",
                    "only statements matching this regular expression (case-insensitive)",
                    "",
                ),
                _PROBABILITY,
            ),
            "slow_dependency",
        ),  # fmt: skip
        Kind(
            "loop_block",
            "block the event loop of every worker (a blocking call's rehearsal)",
            (
                Param("block", "block_ms", "duration", "how long each block lasts, e.g. 100ms"),
                Param("every", "every_ms", "duration", "one block this often, e.g. 1s"),
            ),
            "event_loop_blocking",
        ),  # fmt: skip
        Kind(
            "cpu_burn",
            "keep every worker's loop computing for a share of each period",
            (
                Param("share", "share", "share", "share of each period spent computing, 0 < s < 1"),
                Param("period", "period_ms", "duration", "the period, e.g. 1s", 1000.0),
            ),
            "event_loop_blocking",
        ),  # fmt: skip
        Kind(
            "memory_leak",
            "retain memory at a rate in every worker, up to the run's memory cap",
            (
                Param("rate", "rate_mb_s", "rate", "MB retained per second, e.g. 20MB/s"),
                Param(
                    "limit",
                    "limit_mb",
                    "size",
                    "stop at this RSS (MB) if below the run's memory cap",
                    0.0,
                ),
            ),
            "memory_growth",
        ),  # fmt: skip
        Kind(
            "worker_crash",
            "terminate one worker process (once per injection); the server's restart "
            "behaviour shows in the report",
            (Param("signal", "signal", "signal", "SIGKILL (a crash) or SIGTERM", "SIGKILL"),),
            "worker_restarted",
        ),
    )
}
SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGABRT": signal.SIGABRT}
_HOST = re.compile(r"^(\*|[A-Za-z0-9.\-\[\]:]+)$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mb|gb)?\s*(/\s*s)?\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mb|gb)?\s*$", re.IGNORECASE)
_NEEDS_QUOTES = re.compile(r"[\s'\"]")


@dataclass(frozen=True)
class Injection:
    """One fault to inject: its kind and its parameters in base units (see ``KINDS``)."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:  # params is a dict: hash what equality compares
        return hash(json.dumps(self.to_json(), sort_keys=True))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    def to_user(self) -> dict[str, Any]:
        """The spec as a TOML table or the admin endpoint takes it (``from_mapping``)."""
        given: dict[str, Any] = {"kind": self.kind}
        for p in KINDS[self.kind].params:
            value = self.params.get(p.key)
            if value in (None, "") or (p.key == "limit_mb" and not value):
                continue
            units = {"duration": "ms", "rate": "MB/s", "size": "MB"}
            given[p.name] = f"{float(value)!r}{units[p.kind]}" if p.kind in units else value
        return given

    def describe(self) -> str:
        """The spec as a user writes it on the command line, e.g.
        ``dependency_latency host=127.0.0.1:8765 latency=1.5s``."""
        words = [self.kind]
        for p in KINDS[self.kind].params:
            value = self.params.get(p.key)
            if value in (None, "") or value == p.default:
                continue  # a default goes unsaid
            shown = _show(p, value)
            # Quoted only when it must be, to read back as one word (a pattern with spaces).
            words.append(f"{p.name}={shlex.quote(shown) if _NEEDS_QUOTES.search(shown) else shown}")
        return " ".join(words)


def _show(p: Param, value: Any) -> str:
    if p.kind == "duration":
        ms = float(value)
        return f"{ms / 1000:g}s" if ms >= 1000 else f"{ms:g}ms"
    if p.kind == "rate":
        return f"{float(value):g}MB/s"
    if p.kind == "size":
        return f"{float(value):g}MB"
    return str(value)


def _fail(where: str, message: str) -> UsageError:
    return UsageError(f"{where}: {message}")


def _value(p: Param, raw: Any, *, where: str) -> Any:
    """``raw`` (a string from the CLI, or a TOML value) as parameter ``p`` in base units."""
    what = f"{where}: {p.name}"
    text = str(raw).strip()
    if p.kind == "duration":
        if isinstance(raw, bool):
            raise _fail(where, f"{p.name} must be a duration like 100ms or 1.5s (got {raw!r})")
        return parse_seconds(text, what=what, default_unit="ms") * 1000.0
    if p.kind in ("probability", "share"):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        upper_ok = p.kind == "probability"
        if isinstance(raw, bool) or not (0 < number < 1 or (upper_ok and number == 1)):
            bound = "0 < p <= 1" if upper_ok else "0 < s < 1"
            raise _fail(where, f"{p.name} must be a number with {bound} (got {raw!r})")
        return number
    if p.kind == "host":
        if not isinstance(raw, str) or not _HOST.match(text):
            raise _fail(where, f"host must be HOST or HOST:PORT, or '*' (got {raw!r})")
        return text.lower()
    if p.kind == "url":
        if not isinstance(raw, str) or not re.match(r"^https?://[^/\s]+", text):
            raise _fail(where, f"url must start with http:// or https:// and a host (got {raw!r})")
        return text
    if p.kind == "error":
        if text.lower() == "connect":
            return "connect"
        if isinstance(raw, bool) or not text.isdigit() or not 100 <= int(text) <= 599:
            raise _fail(where, f"error must be an HTTP status (100-599) or 'connect' (got {raw!r})")
        return int(text)
    if p.kind == "regex":
        try:
            re.compile(text)
        except re.error as exc:
            raise _fail(where, f"pattern {raw!r} is not a regular expression ({exc})") from exc
        return text
    if p.kind in ("rate", "size"):
        match = (_RATE if p.kind == "rate" else _SIZE).match(text)
        example = "20MB/s" if p.kind == "rate" else "300MB"
        if isinstance(raw, bool) or match is None or float(match.group(1)) <= 0:
            raise _fail(where, f"{p.name} must be a positive size like {example} (got {raw!r})")
        factor = 1000.0 if (match.group(2) or "mb").lower() == "gb" else 1.0
        return float(match.group(1)) * factor
    if p.kind == "signal":
        name = text.upper()
        name = name if name.startswith("SIG") else f"SIG{name}"
        if name not in SIGNALS:
            raise _fail(where, f"signal must be one of {', '.join(SIGNALS)} (got {raw!r})")
        return name
    raise AssertionError(f"unknown parameter kind {p.kind}")  # pragma: no cover


def from_mapping(given: Mapping[str, Any], *, where: str) -> Injection:
    """An injection from ``{"kind": ..., PARAM: value, ...}`` (a TOML table, or the CLI's
    words); raise UsageError naming ``where`` and the key."""
    kind_name = given.get("kind")
    if not isinstance(kind_name, str) or not kind_name:
        raise _fail(where, f"kind is missing; one of {', '.join(KINDS)}")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise _fail(where, f"kind {kind_name!r} is unknown; one of {', '.join(KINDS)}")
    by_name = {p.name: p for p in kind.params}
    unknown = sorted(set(given) - set(by_name) - {"kind"})
    if unknown:
        raise _fail(
            where,
            f"{kind_name} has no parameter {unknown[0]!r} (its parameters: {', '.join(by_name)})",
        )
    params: dict[str, Any] = {}
    for p in kind.params:
        if p.name in given:
            params[p.key] = _value(p, given[p.name], where=where)
        elif p.default is not None:
            params[p.key] = p.default
        else:
            raise _fail(where, f"{kind_name} needs {p.name} ({p.help})")
    if kind.target and bool(params.get("host")) == bool(params.get("url")):
        raise _fail(where, f"{kind_name} needs exactly one of host or url")
    if kind_name == "loop_block" and params["block_ms"] >= params["every_ms"]:
        raise _fail(where, "loop_block's block must be shorter than every")
    return Injection(kind_name, params)


def parse_spec(text: str, *, where: str | None = None) -> Injection:
    """An injection from the CLI's ``KIND KEY=VALUE ...`` (``--inject``)."""
    where = where or f"--inject {text!r}"
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise _fail(where, f"cannot split into words ({exc})") from exc
    if not words:
        raise _fail(where, f"is empty; write KIND KEY=VALUE ..., KIND one of {', '.join(KINDS)}")
    given: dict[str, Any] = {"kind": words[0]}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise _fail(where, f"{word!r} is not KEY=VALUE")
        given[key] = value
    return from_mapping(given, where=where)


def from_json(data: Any) -> Injection:
    """An injection from its JSON (``Injection.to_json``), as the probe reads the state file.

    Raise ValueError when it is not one (the file was written by something else).
    """
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise ValueError(f"not an injection: {data!r}")
    kind = KINDS[data["kind"]]
    keys = {p.key for p in kind.params}
    params = {k: v for k, v in data.items() if k in keys}
    missing = [p.key for p in kind.params if p.key not in params and p.default is None]
    if missing:
        raise ValueError(f"{kind.name} lacks {', '.join(missing)}")
    return Injection(kind.name, {p.key: params.get(p.key, p.default) for p in kind.params})


def encode_state(injections: Sequence[Injection], *, switch_id: str | None = None) -> bytes:
    """The content of the injector's state file (``inject.json``) for ``injections``:

        {"faults": [Injection.to_json(), ...], "id": "<hex>", "pid": <writer>, "t": <unix s>}

    ``id`` names one switch (a ``worker_crash`` in it terminates one worker, once).
    """
    state = {
        "faults": [i.to_json() for i in injections],
        "id": switch_id or secrets.token_hex(6),
        "pid": os.getpid(),
        "t": round(time.time(), 3),
    }
    return (json.dumps(state) + "\n").encode()


def decode_state(content: bytes) -> tuple[tuple[Injection, ...], str]:
    """The injections and the switch id a state file holds; ValueError if it is not one."""
    data = json.loads(content)
    faults = data.get("faults") if isinstance(data, dict) else None
    if not isinstance(faults, list):
        raise ValueError('expected {"faults": [...], "id": ...}')
    return tuple(from_json(f) for f in faults), str(data.get("id", ""))
