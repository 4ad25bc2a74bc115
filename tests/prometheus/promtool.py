"""promtool (Debian's prometheus package, installed by .ci/run and `make prometheus`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def promtool() -> str:
    """promtool's path; skips the test where it is not installed, fails in CI."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool is not installed (make prometheus)")
    return found


def run_promtool(*args: str | Path) -> str:
    """Run promtool; its output, or a failure carrying it."""
    done = subprocess.run(
        [promtool(), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out
