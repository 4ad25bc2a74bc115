"""Starting a child that Ctrl-C can reach, whatever the shell that started the tests did."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """``preexec_fn``: SIGINT as at a terminal (a background job inherits it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
