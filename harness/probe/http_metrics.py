"""HTTP RED metrics: every request counted by method, route template and status, and timed.

The route is the template the app matched (``/products/{product_id}``), never the raw
path, so the series stay bounded: it comes from the endpoint the router put in the
scope (named by ``routes.endpoint_names``, include prefixes and mounts resolved), else
the matched route's path; a request no route matched is ``unmatched``.  The duration
runs until the app returns (a streamed body included).  The scrape itself is not counted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any

from lagscope.harness.probe.metrics import HistogramBatch, Instruments
from lagscope.harness.probe.routes import routed_path

from lagscope import metric_names as names

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def path_of(endpoint_name: str) -> str:
    """``"GET POST /items/{id}"`` -> ``"/items/{id}"``."""
    _, slash, rest = endpoint_name.partition(" /")
    return "/" + rest if slash else endpoint_name


def route_of(scope: Mapping[str, Any], endpoints: Mapping[CodeType, str]) -> str:
    """The route template ``scope`` was served by, after the app handled it."""
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        code = getattr(inspect.unwrap(endpoint), "__code__", None)
        name = endpoints.get(code) if code is not None else None
        if name is not None:
            return path_of(name)
    return routed_path(scope) or names.UNMATCHED_ROUTE


class RequestMetrics:
    """Counts and times requests into ``instruments``: ``observe`` on the loop, per request,
    into plain counts; ``flush`` (the metrics sampler, once a second) adds them to the
    instruments, so a request costs a dictionary update instead of three file writes."""

    def __init__(
        self, instruments: Instruments, endpoints: Callable[[], Mapping[CodeType, str]]
    ) -> None:
        self._requests = instruments.http_requests
        self._duration = instruments.http_duration
        self._endpoints = endpoints
        self._counts: dict[tuple[str, str, int], int] = {}
        self._timers: dict[tuple[str, str], HistogramBatch] = {}
        self._routes: dict[Any, str] = {}  # endpoint -> route: inspect.unwrap once each

    def observe(self, scope: Mapping[str, Any], status: int, seconds: float) -> None:
        endpoint = scope.get("endpoint")
        route = self._routes.get(endpoint) if endpoint is not None else None
        if route is None:
            route = route_of(scope, self._endpoints())
            if endpoint is not None:
                self._routes[endpoint] = route
        method = scope.get("method", "GET")
        if method not in METHODS:
            method = "other"
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        timer = self._timers.get((method, route))
        if timer is None:
            child = self._duration.labels(method, route)
            timer = self._timers[(method, route)] = HistogramBatch(child, names.HTTP_BUCKETS_S)
        timer.observe(seconds)

    def flush(self) -> None:
        """Add what was observed since the last flush to the instruments."""
        counts, self._counts = self._counts, {}
        for (method, route, status), count in counts.items():
            self._requests.labels(method, route, str(status)).inc(count)
        for timer in list(self._timers.values()):
            timer.flush()
