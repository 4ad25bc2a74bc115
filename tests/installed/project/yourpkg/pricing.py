"""A helper module of the service: CPU-bound work on the event loop."""

from __future__ import annotations

import hashlib


def quote() -> str:
    digest = hashlib.pbkdf2_hmac("sha256", b"basket", b"salt", 150_000)  # BLOCKS: nested
    return digest.hex()[:8]
