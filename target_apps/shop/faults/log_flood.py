"""Fault ``log_flood``: synchronous DEBUG logging of whole payloads in the hot path.

"Log everything at DEBUG while we chase this bug" ships to production: every request
to the catalogue writes the full response and each row as separate records, through
a ``FileHandler`` that formats, writes and flushes on the event loop thread.  Each
record costs microseconds to milliseconds (more when the disk or the log shipper is
slow), the volume costs disk and ingestion money, and the useful lines drown.

The fix logs one line per request at INFO, samples it (1 in 100 here), and hands
records to a ``QueueHandler`` so that a background thread does the writing.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import queue
import tempfile
from pathlib import Path
from typing import Any

from lagscope import rundir

SAMPLE_EVERY = 100


def log_path() -> Path:
    """``shop-<pid>.log`` in ``SHOP_LOG_DIR``, else the run directory's ``logs/``, else the
    temporary folder (shop started by hand)."""
    folder = os.environ.get(rundir.ENV_RUN_DIR)
    base = Path(folder) / rundir.LOGS if folder else Path(tempfile.gettempdir())
    base = Path(os.environ.get("SHOP_LOG_DIR") or base)
    base.mkdir(parents=True, exist_ok=True)
    return base / f"shop-{os.getpid()}.log"


class ShopLogging:
    """The two set-ups side by side: a synchronous DEBUG logger and a queued INFO logger."""

    def __init__(self) -> None:
        fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        file_handler = logging.FileHandler(log_path(), encoding="utf-8")
        file_handler.setFormatter(fmt)
        self.debug_log = logging.getLogger("shop.catalogue.debug")
        self.debug_log.setLevel(logging.DEBUG)
        self.debug_log.propagate = False
        self.debug_log.addHandler(file_handler)  # writes and flushes in the caller's thread
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self.listener = logging.handlers.QueueListener(self._queue, file_handler)
        self.info_log = logging.getLogger("shop.catalogue")
        self.info_log.setLevel(logging.INFO)
        self.info_log.propagate = False
        self.info_log.addHandler(logging.handlers.QueueHandler(self._queue))
        self._served = 0

    def start(self) -> None:
        self.listener.start()

    def stop(self) -> None:
        self.listener.stop()

    def products_broken(self, params: dict[str, Any], products: list[dict[str, Any]]) -> None:
        # SEEDED FAULT: whole payloads at DEBUG, one record per row, written synchronously.
        self.debug_log.debug("GET /products params=%s", json.dumps(params))
        for row in products:
            self.debug_log.debug("row %s", json.dumps(row, indent=2))
        self.debug_log.debug("response %s", json.dumps(products, indent=2))

    def products_fixed(self, params: dict[str, Any], products: list[dict[str, Any]]) -> None:
        self._served += 1
        if self._served % SAMPLE_EVERY == 0:
            self.info_log.info("GET /products limit=%s rows=%d", params.get("limit"), len(products))
