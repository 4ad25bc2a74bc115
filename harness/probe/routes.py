"""Map endpoint functions to route names (``GET /orders``) by walking the app's routes."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterable, Mapping
from types import CodeType
from typing import Any

_MAX_WRAPPING = 20


def routed_path(scope: Mapping[str, Any]) -> str | None:
    """The route template (``/orders/{order_id}``) the app matched ``scope`` to, once its
    router has (Starlette puts the route in the scope), else None."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


def route_for(method: str, path: str, names: Iterable[str]) -> str | None:
    """The template of the first of ``names`` (``endpoint_names``' values, in the app's
    route order) whose methods hold ``method`` and whose template matches the raw
    ``path``: the route a request not routed yet (a middleware runs) will be served by, as
    the router will match it.  None: no route matches, or the templates are not
    Starlette's."""
    for name in names:
        methods, _, template = name.rpartition(" ")
        if method in methods.split(" "):
            pattern = _pattern(template)
            if pattern is not None and pattern.match(path):
                return template
    return None


@functools.lru_cache(maxsize=1024)
def _pattern(template: str) -> re.Pattern[str] | None:
    try:
        from starlette.routing import compile_path

        return compile_path(template)[0]
    except Exception:  # no Starlette, or a template it does not take
        return None


def _find_routes(app: Any) -> list[Any]:
    """The route list of a Starlette/FastAPI app, looking through middleware wrappers."""
    for _ in range(_MAX_WRAPPING):
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            return routes
        app = getattr(app, "app", None)
        if app is None:
            break
    return []


def endpoint_names(app: Any, prefix: str = "") -> dict[CodeType, str]:
    """Return ``{endpoint code object: "METHOD /path"}`` for every route of ``app``."""
    names: dict[CodeType, str] = {}
    for route in _find_routes(app):
        included = getattr(route, "original_router", None)  # FastAPI's lazy include_router
        if included is not None:
            context = getattr(route, "include_context", None)
            sub_prefix = prefix + str(getattr(context, "prefix", ""))
            names.update(endpoint_names(included, prefix=sub_prefix))
            continue
        path = prefix + str(getattr(route, "path", ""))
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            sub = getattr(route, "app", None)
            if sub is not None:
                names.update(endpoint_names(sub, prefix=path))
            continue
        code = getattr(inspect.unwrap(endpoint), "__code__", None)
        if code is None:
            continue
        methods = sorted(m for m in (getattr(route, "methods", None) or {"GET"}) if m != "HEAD")
        names.setdefault(code, " ".join(methods or ["GET"]) + " " + path)
    return names
