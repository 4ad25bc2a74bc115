"""Put on ``PYTHONPATH`` by ``probe_parts.py --shop``: in the run's target server (a uvicorn
process, not the built-in app's downstream) it times the probe's parts before the probe
starts (``probe_parts.install``).  Every other process of the run is left alone."""

import importlib.util
import os
from pathlib import Path

if os.environ.get("LAGSCOPE_BENCH_PARTS_OUT"):
    _argv = Path("/proc/self/cmdline").read_bytes()
    if b"uvicorn" in _argv and b"target_apps.downstream" not in _argv:
        # Loaded from its file, not by putting benchmarks/ on sys.path: its scripts' names
        # must not shadow the app's modules.
        _spec = importlib.util.spec_from_file_location(
            "probe_parts", Path(__file__).resolve().parent.parent / "probe_parts.py"
        )
        if _spec is not None and _spec.loader is not None:
            _module = importlib.util.module_from_spec(_spec)
            _spec.loader.exec_module(_module)
            _module.install()
