"""The pytest plugin: fail a test whose event loop stalled, naming the line that blocked it.

Shipped with the distribution (entry point ``pytest11``: ``lagscope`` ->
``lagscope.harness.testing.plugin``) and off unless asked for: ``pytest --lagscope`` (or
ini ``lagscope = true``) watches every async test (pytest-asyncio, anyio's plugin; asyncio
and uvloop), ``@pytest.mark.lagscope(threshold="50ms", allow=["app.py:42"])`` one test.
The probe's own heartbeat, watchdog and frame blame do the watching (``watch.py``).

Importing this package imports nothing else: it is loaded in every pytest session.
"""

from __future__ import annotations

__all__ = ["LagscopeStallWarning"]


class LagscopeStallWarning(UserWarning):
    """A watched test's event loop stalled over the threshold (``--lagscope-mode=warn``)."""
