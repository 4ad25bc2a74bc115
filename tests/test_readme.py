"""What the README quotes from the code is what the code says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ROOTS = (ROOT, ROOT / "tests" / "harness" / "testing" / "sample")


def test_every_code_location_the_readme_quotes_is_code_in_the_function_it_names() -> None:
    text = README.read_text(encoding="utf-8")
    # Not a library's (`<site-packages>/...`) nor an absolute path: code of ours.
    quoted = re.findall(r"(?<![\w./>-])([\w.-][\w./-]*\.py):(\d+)(?: \((\w+)\))?", text)
    # "Line 31 of `path.py`" in prose
    quoted += [
        (path, line, "") for line, path in re.findall(r"Line (\d+) of `([\w./-]+\.py)`", text)
    ]
    assert quoted
    for path, line_text, function in set(quoted):
        # The test plugin's output names the sample project's files from its own folder.
        where = next((root / path for root in ROOTS if (root / path).is_file()), ROOT / path)
        source = where.read_text(encoding="utf-8")
        line = int(line_text)
        code = source.splitlines()[line - 1].strip()
        assert code.strip(")]} "), f"{path}:{line} is blank or only closes brackets"
        assert not code.startswith("#"), f"{path}:{line} is a comment"
        if function:
            enclosing = [
                node.name
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.lineno <= line <= (node.end_lineno or node.lineno)
            ]
            assert function in enclosing, f"{path}:{line} is not in {function}"
