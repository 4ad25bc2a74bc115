"""What the control process asks a server to run: import strings, named once.

Strings, not imports: the control process never imports the probe (it runs in the
server's workers); tests/test_servers.py checks that every string names a real object.
"""

from __future__ import annotations

from typing import Literal

LoopKind = Literal["auto", "asyncio", "uvloop"]

PROBE_FACTORY = "lagscope.harness.probe.entry:create_app"  # uvicorn --factory; gunicorn: + "()"
DOWNSTREAM_APP = "lagscope.target_apps.downstream:app"
SHOP_APP = "lagscope.target_apps.shop.app:app"
GUNICORN_WORKERS: dict[LoopKind, str] = {
    "auto": "lagscope.harness.probe.gunicorn_workers.AutoWorker",
    "asyncio": "lagscope.harness.probe.gunicorn_workers.AsyncioWorker",
    "uvloop": "lagscope.harness.probe.gunicorn_workers.UvloopWorker",
}
