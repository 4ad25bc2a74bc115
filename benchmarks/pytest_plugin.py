"""What the pytest plugin costs a test suite: 500 trivial async tests (pytest-asyncio, a
loop per test), run without the plugin, with it installed but off, and with --lagscope.

Each configuration is a fresh ``python -m pytest`` process; the figure is the best of
several rounds of the session time pytest reports (collection and tests, not the
interpreter's start-up), and of the process's wall time.

    .venv/bin/python benchmarks/pytest_plugin.py [--tests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGURATIONS = {
    "without the plugin": ["-p", "no:lagscope"],
    "installed, off": [],
    "--lagscope": ["--lagscope"],
}
TEST = """
async def test_{n}():
    await asyncio.sleep(0)
"""


def write_suite(folder: Path, tests: int) -> None:
    (folder / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\n'
    )
    body = "".join(TEST.format(n=n) for n in range(tests))
    (folder / "test_trivial.py").write_text("import asyncio\n" + body)


def run_once(folder: Path, args: list[str], tests: int) -> tuple[float, float]:
    """(session s as pytest reports it, process wall s) of one run."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    match = re.search(rf"{tests} passed in ([\d.]+)s", done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{done.stdout[-3000:]}")
    return float(match.group(1)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_suite(folder, args.tests)
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):  # interleaved, so a busy moment hits every configuration
            for name, extra in CONFIGURATIONS.items():
                session, wall = run_once(folder, extra, args.tests)
                old = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(old[0], session), min(old[1], wall))
    base_session, base_wall = best["without the plugin"]
    print(f"{args.tests} trivial async tests (pytest-asyncio, a loop per test), "
          f"best of {args.rounds}:")  # fmt: skip
    for name, (session, wall) in best.items():
        extra = session - base_session
        per_test = extra / args.tests * 1000.0
        print(f"  {name:20} session {session:6.2f} s ({extra:+.2f} s, {per_test:+.2f} ms per "
              f"test); process {wall:6.2f} s ({wall - base_wall:+.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
