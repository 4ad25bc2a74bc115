"""``dependency_latency`` / ``dependency_errors``: outbound HTTP calls delayed or failed.

The hooks sit in the HTTP clients' transports, never in the app: each wraps, on the
class, the one method every request of that client goes through, and puts it back
when no dependency fault is on.

    httpx      AsyncHTTPTransport.handle_async_request / HTTPTransport.handle_request
    aiohttp    BaseConnector.connect (if installed): delay and connection errors; a status
               is raised as the ClientResponseError ``raise_for_status()`` would raise
    urllib3    HTTPConnectionPool.urlopen (requests goes through it)
    urllib     AbstractHTTPHandler.do_open (urllib.request.urlopen)

A call matching a rule (its host, or a URL prefix) is affected with the rule's
probability: first every matching latency (an async client awaits it, a sync client
sleeps in its thread, as a slow dependency would hold it), then the first matching
error: a response with that status (header ``x-lagscope-injected``) or the client's
own connection error.  ``RULES`` is replaced whole by the injector (a tuple, read
without a lock from any thread).
"""

from __future__ import annotations

import asyncio
import email.message
import errno
import io
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lagscope.injection import Injection

MARK = "x-lagscope-injected"
BODY = b"injected by lagscope: dependency_errors"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Rule:
    """One dependency fault and what it has done so far."""

    injection: Injection
    matched: int = 0
    affected: int = 0
    # From the injection, once: a URL prefix, or a host and an optional port.
    url: str = field(init=False, default="")
    host: str = field(init=False, default="")
    port: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.url = str(self.injection.params.get("url") or "")
        self.host, self.port = split_host(str(self.injection.params.get("host") or ""))

    def matches(self, url: str, target: tuple[str, int]) -> bool:
        if self.url:
            return url.startswith(self.url)
        if self.host == "*":
            return True
        return target[0] == self.host and self.port in (None, target[1])


def split_host(spec: str) -> tuple[str, int | None]:
    """``"a:80"`` -> ``("a", 80)``; ``"a"`` -> ``("a", None)``; ``"[::1]:80"`` -> ``("::1", 80)``"""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = spec.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return spec, None


@dataclass(frozen=True)
class Decision:
    delay_s: float = 0.0
    error: int | str | None = None  # an HTTP status, or "connect"


@dataclass
class _State:
    rules: tuple[Rule, ...] = ()
    random: random.Random = field(default_factory=random.Random)


STATE = _State()


def target_of(url: str) -> tuple[str, int]:
    """``(host, port)`` of ``url``, the port spelled out (``http://a/`` -> ``("a", 80)``)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(parts.scheme, 0)


def decide(url: str) -> Decision | None:
    """What to do to a call to ``url``: None when no rule touches it."""
    rules = STATE.rules
    if not rules:
        return None
    target = target_of(url)
    delay, error = 0.0, None
    for rule in rules:
        if not rule.matches(url, target):
            continue
        rule.matched += 1
        params = rule.injection.params
        if STATE.random.random() >= float(params.get("probability", 1.0)):
            continue
        if rule.injection.kind == "dependency_latency":
            rule.affected += 1
            delay += float(params["latency_ms"]) / 1000.0
        elif error is None:
            rule.affected += 1
            error = params["error"]
    return Decision(delay, error) if delay or error is not None else None


def injected_dependency_latency(delay_s: float) -> None:
    """A sync client's call waits here (the thread it runs in is held, as it would be)."""
    time.sleep(delay_s)


# -- httpx ---------------------------------------------------------------------------------


def _httpx_hooks() -> list[tuple[type, str, Callable[..., Any]]]:
    import httpx

    async def handle_async_request(self: Any, request: Any) -> Any:
        decision = decide(str(request.url))
        if decision is not None:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            if decision.error is not None:
                return _httpx_error(httpx, decision.error, request)
        return await original_async(self, request)

    def handle_request(self: Any, request: Any) -> Any:
        decision = decide(str(request.url))
        if decision is not None:
            if decision.delay_s:
                injected_dependency_latency(decision.delay_s)
            if decision.error is not None:
                return _httpx_error(httpx, decision.error, request)
        return original_sync(self, request)

    original_async = httpx.AsyncHTTPTransport.handle_async_request
    original_sync = httpx.HTTPTransport.handle_request
    return [
        (httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
        (httpx.HTTPTransport, "handle_request", handle_request),
    ]


def _httpx_error(httpx: Any, error: int | str, request: Any) -> Any:
    if error == "connect":
        raise httpx.ConnectError("[Errno 111] Connection refused (injected by lagscope)",
                                 request=request)  # fmt: skip
    return httpx.Response(int(error), headers={MARK: "dependency_errors"}, content=BODY,
                          request=request)  # fmt: skip


# -- aiohttp -------------------------------------------------------------------------------


def _aiohttp_hooks() -> list[tuple[type, str, Callable[..., Any]]]:
    import aiohttp
    from aiohttp.connector import BaseConnector

    async def connect(self: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        decision = decide(str(req.url))
        if decision is not None:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            if decision.error == "connect":
                refused = ConnectionRefusedError(
                    errno.ECONNREFUSED, "Connection refused (injected by lagscope)"
                )
                raise aiohttp.ClientConnectorError(req.connection_key, refused)
            if decision.error is not None:
                raise aiohttp.ClientResponseError(
                    req.request_info, (), status=int(decision.error),
                    message="injected by lagscope", headers=None,
                )  # fmt: skip
        return await original(self, req, *args, **kwargs)

    original = BaseConnector.connect
    return [(BaseConnector, "connect", connect)]


# -- urllib3 (and requests) ----------------------------------------------------------------


def _urllib3_hooks() -> list[tuple[type, str, Callable[..., Any]]]:
    from urllib3 import HTTPResponse
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    def urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        full = url if "://" in url else f"{self.scheme}://{self.host}:{self.port}{url}"
        decision = decide(full)
        if decision is not None:
            if decision.delay_s:
                injected_dependency_latency(decision.delay_s)
            if decision.error == "connect":
                refused = NewConnectionError(
                    None,  # type: ignore[arg-type]  # no connection was made
                    "Failed to establish a new connection: [Errno 111] Connection refused "
                    "(injected by lagscope)",
                )
                raise MaxRetryError(self, url, refused)
            if decision.error is not None:
                return HTTPResponse(
                    body=io.BytesIO(BODY), headers={MARK: "dependency_errors"},
                    status=int(decision.error), reason="injected by lagscope",
                    preload_content=kwargs.get("preload_content", True),
                    decode_content=kwargs.get("decode_content", True),
                    request_method=method, request_url=full,
                )  # fmt: skip
        return original(self, method, url, *args, **kwargs)

    original = HTTPConnectionPool.urlopen
    return [(HTTPConnectionPool, "urlopen", urlopen)]


# -- urllib --------------------------------------------------------------------------------


def _urllib_hooks() -> list[tuple[type, str, Callable[..., Any]]]:
    import urllib.error
    import urllib.request

    def do_open(self: Any, http_class: Any, req: Any, **kwargs: Any) -> Any:
        decision = decide(req.full_url)
        if decision is not None:
            if decision.delay_s:
                injected_dependency_latency(decision.delay_s)
            if decision.error == "connect":
                raise urllib.error.URLError(
                    ConnectionRefusedError(errno.ECONNREFUSED,
                                           "Connection refused (injected by lagscope)")
                )  # fmt: skip
            if decision.error is not None:
                headers = email.message.Message()
                headers[MARK] = "dependency_errors"
                raise urllib.error.HTTPError(
                    req.full_url, int(decision.error), "injected by lagscope", headers,
                    io.BytesIO(BODY),
                )  # fmt: skip
        return original(self, http_class, req, **kwargs)

    original = urllib.request.AbstractHTTPHandler.do_open
    return [(urllib.request.AbstractHTTPHandler, "do_open", do_open)]


CLIENTS: dict[str, tuple[str, Callable[[], list[tuple[type, str, Callable[..., Any]]]]]] = {
    "httpx": ("httpx", _httpx_hooks),
    "aiohttp": ("aiohttp.connector", _aiohttp_hooks),
    "urllib3": ("urllib3.connectionpool", _urllib3_hooks),
    "urllib": ("urllib.request", _urllib_hooks),
}
_installed: list[tuple[type, str, Any]] = []  # (class, attribute, original)
_hooked: set[str] = set()


def installed() -> list[str]:
    """``Class.method`` of every hook in place."""
    return [f"{cls.__module__}.{cls.__qualname__}.{name}" for cls, name, _ in _installed]


def install() -> list[str]:
    """Hook every client the app has imported and that is not hooked yet; return the clients
    hooked.  A client is never imported here (an import, aiohttp's SSL context above all,
    would stall the loop): one imported later is hooked by the next call (the injector
    calls this at every look at its state file while a dependency fault is on)."""
    for client, (module, hooks) in CLIENTS.items():
        if client in _hooked or module not in sys.modules:
            continue
        for cls, name, wrapper in hooks():
            original = cls.__dict__[name]
            wrapper.__wrapped__ = original  # type: ignore[attr-defined]
            setattr(cls, name, wrapper)
            _installed.append((cls, name, original))
        _hooked.add(client)
    return sorted(_hooked)


def uninstall() -> None:
    """Put every original method back: the clients are as they were."""
    while _installed:
        cls, name, original = _installed.pop()
        setattr(cls, name, original)
    _hooked.clear()


def set_rules(injections: list[Injection], *, seed: int) -> tuple[Rule, ...]:
    """Make ``injections`` the rules (hooks installed when there are any, removed when
    there are none); keep the counters of rules that stay.  Return the rules."""
    kept = {rule.injection: rule for rule in STATE.rules}
    rules = tuple(kept.get(i) or Rule(i) for i in injections)
    if rules and not STATE.rules:
        STATE.random = random.Random(seed)
    STATE.rules = rules
    if rules:
        install()
    else:
        uninstall()
    return rules
