"""A real HTTP upstream for blocky, in a thread of the worker, answering after 80 ms.

80 ms, not less: the watchdog measures a stall's cause from when it detects it (20 ms
past the beat that was due), so in a short stall the parsing of the answer, on the CPU,
weighs more than the wait; with a 30 ms answer a slow CI machine read the call as "cpu".
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(0.08)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def start() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"
