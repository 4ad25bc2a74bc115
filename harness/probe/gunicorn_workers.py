"""Gunicorn worker classes that serve through uvicorn on a chosen event loop.

``lagscope run --server gunicorn --loop uvloop`` runs
``gunicorn -k lagscope.harness.probe.gunicorn_workers.UvloopWorker``.
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class AutoWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "httptools"}


class AsyncioWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "asyncio", "http": "httptools"}


class UvloopWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "uvloop", "http": "httptools"}


BY_LOOP = {"auto": "AutoWorker", "asyncio": "AsyncioWorker", "uvloop": "UvloopWorker"}
