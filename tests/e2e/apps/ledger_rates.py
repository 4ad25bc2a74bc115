"""The ledger's downstream: a rates service answering ``GET /rates/<x>`` and ``GET /fx/<x>``
in about a millisecond.  ``python -m tests.e2e.apps.ledger_rates PORT`` serves it on
127.0.0.1 until terminated; ``serving(...)`` does so for a test."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class _Rates(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real service would

    def do_GET(self) -> None:
        body = b'{"rate": 1.08}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(port: int) -> Iterator[str]:
    """Run the rates service in its own process on ``port``; yield its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.e2e.apps.ledger_rates", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/rates/eur", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Rates)
    server.daemon_threads = True
    server.serve_forever()
