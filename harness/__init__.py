"""Collection: the code that runs while load runs, grouped by the process it runs in.

``probe/`` runs inside each server worker, ``loadgen/`` inside Locust's gevent-patched
process, ``run/`` in the control process, and ``cli/`` is the ``lagscope`` command on top.
Importing this package imports nothing else.
"""
