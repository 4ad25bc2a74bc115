from __future__ import annotations

import time


def render_invoice() -> str:
    return _format_lines()


def _format_lines() -> str:
    return _read_template()


def _read_template() -> str:
    time.sleep(0.03)  # BLOCKS: nested helper
    return "invoice"
