"""Whether a value has the shape its type in ``lagscope.reports.summary_types`` declares.

mypy checks that the code reads only declared keys; this checks at run time that what
``summarize`` writes matches the declarations, so the two cannot drift apart.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin


def declared_keys(cls: type) -> tuple[dict[str, Any], set[str]]:
    """A TypedDict's value types by key (``NotRequired`` unwrapped) and its required keys.

    Worked out from the annotations: on Python 3.11 ``__required_keys__`` counts a
    ``NotRequired`` key as required when the module uses ``from __future__ import
    annotations``.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    total = getattr(cls, "__total__", True)
    fields, required = {}, set()
    for key, hint in hints.items():
        origin = get_origin(hint)
        if origin in (NotRequired, Required):
            fields[key] = get_args(hint)[0]
            if origin is Required:
                required.add(key)
        else:
            fields[key] = hint
            if total:
                required.add(key)
    return fields, required


def shape_errors(value: object, expected: Any, path: str = "summary") -> list[str]:
    """Every place where ``value`` departs from ``expected``: a missing required key, a key
    the type does not declare, a value of another type. Empty when it conforms."""
    if typing.is_typeddict(expected):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, expected {expected.__name__}"]
        fields, required = declared_keys(expected)
        errors = [f"{path}.{key}: missing" for key in sorted(required - value.keys())]
        errors += [f"{path}.{key}: not declared" for key in sorted(value.keys() - fields.keys())]
        for key in sorted(value.keys() & fields.keys()):
            errors += shape_errors(value[key], fields[key], f"{path}.{key}")
        return errors
    origin = get_origin(expected)
    if origin in (Union, types.UnionType):
        arms = [shape_errors(value, arm, path) for arm in get_args(expected)]
        return [] if any(not errors for errors in arms) else min(arms, key=len)
    if origin is Literal:
        return [] if value in get_args(expected) else [f"{path}: {value!r} not in {expected}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, expected a list"]
        (item,) = get_args(expected)
        return [e for i, v in enumerate(value) for e in shape_errors(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, expected a dict"]
        _, item = get_args(expected)
        bad_keys = [f"{path}: key {k!r} is not a str" for k in value if not isinstance(k, str)]
        items = [e for k, v in value.items() for e in shape_errors(v, item, f"{path}[{k}]")]
        return bad_keys + items
    if expected is type(None):
        return [] if value is None else [f"{path}: {value!r}, expected None"]
    if expected is float:  # an int is a float too (PEP 484), a bool is not
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    return [] if ok else [f"{path}: {value!r} is not {getattr(expected, '__name__', expected)}"]
