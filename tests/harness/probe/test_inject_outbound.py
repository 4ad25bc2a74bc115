"""dependency_latency / dependency_errors on every HTTP client, against a real loopback server.

The hooks sit in the clients' transports: each client below is used as an app would
use it, and sees a slower dependency or its own kind of failure; clearing the rules
puts every transport back as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import httpx
import pytest
import requests
import urllib3
from lagscope.harness.probe.inject import outbound

from lagscope.injection import parse_spec


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _cleared() -> Iterator[None]:
    yield
    outbound.set_rules([], seed=0)
    assert outbound.installed() == []


def _rules(*specs: str) -> None:
    outbound.set_rules([parse_spec(s) for s in specs], seed=1)


def _timed(call: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


Get = Callable[[str], int]


def _httpx_sync(stack: contextlib.ExitStack) -> Get:
    client = stack.enter_context(httpx.Client())
    return lambda url: client.get(url).status_code


def _httpx_async(stack: contextlib.ExitStack) -> Get:
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)
    client = httpx.AsyncClient()
    stack.callback(lambda: loop.run_until_complete(client.aclose()))
    return lambda url: loop.run_until_complete(client.get(url)).status_code


def _aiohttp(stack: contextlib.ExitStack) -> Get:
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)

    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = loop.run_until_complete(make())
    stack.callback(lambda: loop.run_until_complete(session.close()))

    async def get(url: str) -> int:
        async with session.get(url) as response:
            await response.read()
            return response.status

    return lambda url: loop.run_until_complete(get(url))


def _requests(stack: contextlib.ExitStack) -> Get:
    session = stack.enter_context(requests.Session())
    return lambda url: session.get(url, timeout=5).status_code


def _urllib3(stack: contextlib.ExitStack) -> Get:
    pool = stack.enter_context(urllib3.PoolManager())
    return lambda url: pool.request("GET", url, retries=False).status


def _urllib(stack: contextlib.ExitStack) -> Get:
    def get(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    return get


MAKERS: dict[str, Callable[[contextlib.ExitStack], Get]] = {
    "httpx sync": _httpx_sync,
    "httpx async": _httpx_async,
    "aiohttp": _aiohttp,
    "requests": _requests,
    "urllib3": _urllib3,
    "urllib": _urllib,
}
CLIENTS = list(MAKERS)


@pytest.fixture
def clients() -> Iterator[Callable[[str], Get]]:
    with contextlib.ExitStack() as stack:
        yield lambda name: MAKERS[name](stack)


@pytest.mark.parametrize("client", CLIENTS)
def test_latency_is_added_to_calls_to_the_host_only(
    server: str, clients: Callable[[str], Get], client: str
) -> None:
    get = clients(client)
    get(server + "/warm")
    baseline, _ = _timed(lambda: get(server + "/x"))
    host = server.removeprefix("http://")
    _rules(f"dependency_latency host={host} latency=200ms")
    slow, status = _timed(lambda: get(server + "/x"))
    assert status == 200
    assert slow >= 0.2, (slow, baseline)
    assert slow - baseline < 0.2 + 0.1, (slow, baseline)
    other_port = host.rpartition(":")[0] + ":1"
    _rules(f"dependency_latency host={other_port} latency=200ms")
    fast, _ = _timed(lambda: get(server + "/x"))
    assert fast - baseline < 0.1, (fast, baseline)


@pytest.mark.parametrize("client", [c for c in CLIENTS if c != "aiohttp"])
def test_an_injected_status_is_the_answer_the_client_sees(
    server: str, clients: Callable[[str], Get], client: str
) -> None:
    get = clients(client)
    _rules(f"dependency_errors url={server}/pay error=503")
    assert get(server + "/pay/1") == 503
    assert get(server + "/other") == 200


def test_aiohttp_sees_an_injected_status_as_the_error_raise_for_status_raises(
    server: str, clients: Callable[[str], Get]
) -> None:
    get = clients("aiohttp")
    _rules(f"dependency_errors url={server}/pay error=502")
    with pytest.raises(aiohttp.ClientResponseError) as caught:
        get(server + "/pay")
    assert caught.value.status == 502


@pytest.mark.parametrize(
    ("client", "error"),
    [
        ("httpx sync", httpx.ConnectError),
        ("httpx async", httpx.ConnectError),
        ("aiohttp", aiohttp.ClientConnectorError),
        ("requests", requests.ConnectionError),
        ("urllib3", urllib3.exceptions.MaxRetryError),
        ("urllib", urllib.error.URLError),
    ],
)
def test_a_connection_error_is_the_clients_own(
    server: str, clients: Callable[[str], Get], client: str, error: type[Exception]
) -> None:
    get = clients(client)
    _rules("dependency_errors host=* error=connect")
    with pytest.raises(error):
        get(server + "/x")


def test_errors_come_at_the_asked_probability(server: str) -> None:
    _rules(f"dependency_errors host={server.removeprefix('http://')} probability=0.3")
    n = 400
    with httpx.Client() as client:
        failed = sum(client.get(server + "/x").status_code == 503 for _ in range(n))
    # 0.3 ± 4 standard deviations of a binomial(400, 0.3): 0.3 ± 0.092
    assert abs(failed / n - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5, failed
    (rule,) = outbound.STATE.rules
    assert (rule.matched, rule.affected) == (n, failed)


def test_cleared_rules_leave_the_clients_as_they_were() -> None:
    original = httpx.AsyncHTTPTransport.handle_async_request
    _rules("dependency_latency host=* latency=10ms")
    assert httpx.AsyncHTTPTransport.handle_async_request is not original
    assert len(outbound.installed()) == 5  # every client this test module imported
    outbound.set_rules([], seed=0)
    assert httpx.AsyncHTTPTransport.handle_async_request is original


@pytest.mark.parametrize(
    ("host", "url", "matches"),
    [
        ("a.example:8080", "http://a.example:8080/x", True),
        ("a.example:8080", "http://a.example/x", False),
        ("a.example", "https://a.example/x", True),
        ("a.example", "https://b.example/x", False),
        ("[::1]:9000", "http://[::1]:9000/", True),
        ("*", "http://anything:1/", True),
    ],
)
def test_hosts_match_with_or_without_a_port(host: str, url: str, matches: bool) -> None:
    rule = outbound.Rule(parse_spec(f"dependency_latency host={host} latency=1ms"))
    assert rule.matches(url, outbound.target_of(url)) is matches
