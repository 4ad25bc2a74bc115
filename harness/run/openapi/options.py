"""The ``openapi`` scenario's flags: ``--methods``, ``--header``, ``--weights`` (UsageError when
one is malformed, before anything starts)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from pathlib import Path

from lagscope.errors import UsageError
from lagscope.openapi_plan import METHODS

FLAGS = ("--methods", "--header", "--weights")


def parse_methods(text: str | None) -> tuple[str, ...] | None:
    """``GET,POST`` -> ("GET", "POST"); ``all`` -> every method; None (not given) -> None:
    the plan chooses (lagscope.harness.run.openapi.plan.choose_methods)."""
    if text is None:
        return None
    if text.strip().lower() == "all":
        return METHODS
    methods = [m.strip().upper() for m in text.split(",") if m.strip()]
    for method in methods:
        if method not in METHODS:
            raise UsageError(
                f"--methods: {method!r} is not an HTTP method; give a list such as GET,POST "
                f"(from {','.join(METHODS)}) or all"
            )
    if not methods:
        raise UsageError("--methods is empty; give a list such as GET,POST, or all")
    return tuple(dict.fromkeys(methods))


def parse_header(text: str) -> tuple[str, str]:
    """``'Authorization: Bearer abc'`` -> ("Authorization", "Bearer abc")."""
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name or any(c.isspace() for c in name) or "\n" in value:
        raise UsageError(f"--header {text!r} is not 'Name: value' (e.g. 'Authorization: Bearer …')")
    return name, value


def mask(value: str) -> str:
    """A header value as run.json records it: an auth scheme kept, the secret never."""
    scheme, space, _ = value.partition(" ")
    if space and scheme.isalpha() and len(scheme) <= 10:
        return f"{scheme} ***"
    return "***"


def masked_argv(argv: list[str]) -> list[str]:
    """The command line with every ``--header`` value masked (run.json records it)."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--header":
            out.append(_masked_header(arg))
        elif arg.startswith("--header="):
            out.append("--header=" + _masked_header(arg.partition("=")[2]))
        else:
            out.append(arg)
    return out


def _masked_header(text: str) -> str:
    name, colon, value = text.partition(":")
    return f"{name}: {mask(value.strip())}" if colon else "***"


def parse_weights(text: str | None) -> tuple[tuple[str, float], ...]:
    """``--weights``: a TOML file (``"GET /items" = 3``) or ``'GET /items=3,/health=0'``.

    A name is an operation (``METHOD /path``) or a path (all its methods); weights are
    relative (every operation weighs 1 unless named), 0 leaves one out.
    """
    if text is None:
        return ()
    if text.endswith(".toml"):
        pairs = _toml_weights(Path(text))
    else:
        pairs = []
        for item in text.split(","):
            name, equals, weight = item.rpartition("=")
            if not equals or not name.strip():
                raise UsageError(
                    f"--weights: {item.strip()!r} is not NAME=WEIGHT "
                    "(e.g. 'GET /items=3,/health=0', or a .toml file)"
                )
            pairs.append((name.strip(), weight.strip()))
    return tuple((name, _weight(name, value)) for name, value in pairs)


def _toml_weights(path: Path) -> list[tuple[str, object]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--weights: cannot read {path} ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--weights: {path} is not valid TOML ({exc})") from exc
    table = data.get("weights", data)
    if not isinstance(table, dict) or not table:
        raise UsageError(f'--weights: {path} has no weights; write lines like "GET /items" = 3')
    return list(table.items())


def _weight(name: str, value: object) -> float:
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"--weights: the weight of {name!r} is not a number ({value!r})") from None
    if weight < 0 or not math.isfinite(weight):
        raise UsageError(f"--weights: the weight of {name!r} must be 0 or more (got {value!r})")
    return weight


def check_scenario(scenario: str, given: Sequence[str]) -> None:
    """The openapi flags ``given`` apply to the openapi scenario only."""
    if given and scenario != "openapi":
        raise UsageError(
            f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to the openapi "
            f"scenario (the default for your own app), not to {scenario!r}: a locustfile "
            "sets its own requests"
        )
