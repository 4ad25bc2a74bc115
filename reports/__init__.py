"""From a run directory to findings: load (``rundata``), pure processing steps, renderers.

``lagscope.reports.build.build(run_dir)`` is the whole pipeline; ``lagscope report``
calls it on saved data.  Importing this package imports nothing else: analysis modules
must stay importable without the renderers (see tests/test_layers.py).
"""
