"""docs/injection.md lists every fault kind and every parameter that lagscope/injection.py has."""

from __future__ import annotations

import re
from pathlib import Path

from lagscope.injection import KINDS

DOC = Path(__file__).resolve().parents[1] / "docs" / "injection.md"


def test_every_kind_and_parameter_is_documented() -> None:
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `(\w+)` \| (.*?) \|", DOC.read_text(), re.MULTILINE)
    }
    for kind in KINDS.values():
        assert kind.name in rows, f"docs/injection.md has no row for {kind.name}"
        for param in kind.params:
            assert f"`{param.name}`" in rows[kind.name], f"{kind.name}: {param.name} undocumented"
        assert kind.finding in DOC.read_text()
