"""A Prometheus rule file as YAML text: the groups of ``prom_rules``, with a header.

Written by hand (no YAML library at run time): mappings and lists in block style,
every string a JSON string (a valid YAML double-quoted scalar), multi-line PromQL as
a literal block so that it reads as written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:")
                out += _lines(item, indent + 2)
            elif isinstance(item, str) and "\n" in item:
                out.append(f"{pad}{key}: |-")
                out += [f"{pad}  {line}" for line in item.split("\n")]
            else:
                out.append(f"{pad}{key}: {_scalar(item) if item != {} else '{}'}")
        return out
    if isinstance(value, list):
        for item in value:
            inner = _lines(item, indent + 2)
            if inner:
                out.append(f"{pad}- {inner[0].lstrip()}")
                out += inner[1:]
        return out
    return [f"{pad}{_scalar(value)}"]


def render_rules(groups: Sequence[dict[str, Any]], *, header: Sequence[str] = ()) -> str:
    """The rule file: ``# header`` lines, then ``groups:``."""
    lines = [f"# {line}".rstrip() for line in header]
    lines.append("groups:")
    lines += _lines(list(groups), 2)
    return "\n".join(lines) + "\n"
