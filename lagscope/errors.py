"""The errors lagscope raises on purpose.

    LagscopeError            base: the CLI prints its message on one line, exit code 2
    ├── UsageError           bad input from the user (flag, app, scenario, run directory)
    ├── RunDirError          the run directory cannot be created or written (permissions,
    │                        a read-only filesystem, a file in the way, no space left)
    ├── TargetStartError     the target server did not come up (its log says why)
    ├── RunDataError         a run directory is missing files or holds unreadable data
    ├── MetricsSetupError    the probe's metrics cannot be right as the server is set up
    │                        (several workers without PROMETHEUS_MULTIPROC_DIR)
    └── LoadWorkersError     --load-workers: not all of them connected to the master in time

Anything else escaping the CLI is a bug in lagscope and keeps its traceback.
"""

from __future__ import annotations


class LagscopeError(Exception):
    """Base of all errors the user can act on; ``str(err)`` is one line."""


class UsageError(LagscopeError):
    """A flag, name or path given by the user is wrong; the message says how to fix it."""


class RunDirError(LagscopeError):
    """An OS error on the run directory; the message names the path and what to do."""


class TargetStartError(LagscopeError):
    """The target server (or the downstream) exited or never answered during start-up.

    ``log_tail`` holds the last lines of its log, which the CLI prints under the message.
    """

    def __init__(self, message: str, *, log_tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_tail = log_tail or []


class RunDataError(LagscopeError):
    """A run directory cannot be read as lagscope data."""


class MetricsSetupError(LagscopeError):
    """Metrics served as configured would be wrong; the message says what to set."""


class LoadWorkersError(LagscopeError):
    """Fewer remote load workers connected than ``--load-workers`` asked for, in time."""
