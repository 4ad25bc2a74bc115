"""The errors lagscope raises on purpose.

    LagscopeError            base: the CLI prints its message on one line, exit code 2
    ├── UsageError           bad input from the user (flag, app, scenario, run directory)
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


class TargetStartError(LagscopeError):
    """The target server (or the downstream) exited or never answered during start-up."""


class RunDataError(LagscopeError):
    """A run directory cannot be read as lagscope data."""


class MetricsSetupError(LagscopeError):
    """Metrics served as configured would be wrong; the message says what to set."""


class LoadWorkersError(LagscopeError):
    """Fewer remote load workers connected than ``--load-workers`` asked for, in time."""
