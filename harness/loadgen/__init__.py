"""What runs inside Locust's gevent-patched process: the locustfile the harness hands to
Locust, the request recorder, the open-model dispatcher and the loopback guard.

Only this package may import ``locust`` or ``gevent`` (tests/test_layers.py checks it).
"""
