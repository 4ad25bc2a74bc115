"""A user's service: blocking code in its own package, a blocking library call, and its own
``harness`` and ``reports`` packages (tests/installed/test_own_app.py)."""
