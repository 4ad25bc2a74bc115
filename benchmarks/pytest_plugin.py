"""What the pytest plugin costs a test suite: 500 trivial async tests (pytest-asyncio, a
loop per test), run without the plugin, with it installed but off, and with --lagscope.

Each configuration is a fresh ``python -m pytest`` process, run several times in turn;
the figures are the best of those rounds: the CPU time of the process (user + system, all
threads: what the plugin costs, and little moved by other processes on a shared machine)
and the session time pytest reports (wall clock, collection and tests).  Then, in this
process, the watch alone: a trivial test's coroutine on a fresh loop (as pytest-asyncio
runs it), bare and under the plugin's LoopWatch, the median of many.

    .venv/bin/python benchmarks/pytest_plugin.py [--tests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.testing.watch import LoopWatch

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
    """(CPU s of the pytest process, session s as pytest reports it) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = re.search(rf"{tests} passed in ([\d.]+)s", done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{done.stdout[-3000:]}")
    return cpu, float(match.group(1))


def per_test_ms(tests: int, *, watched: bool) -> float:
    """Median ms of one trivial test's coroutine on a fresh loop, bare or under a LoopWatch."""
    frame_filter = FrameFilter.for_root(Path.cwd())

    async def trivial() -> None:
        await asyncio.sleep(0)

    async def under_watch() -> None:
        watch = LoopWatch(threshold_ms=20.0, interval_ms=10.0, frame_filter=frame_filter)
        watch.start()
        await trivial()
        await watch.close()

    times = []
    for _ in range(tests):
        started = time.perf_counter()
        asyncio.run(under_watch() if watched else trivial())
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


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
                cpu, session = run_once(folder, extra, args.tests)
                old = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(old[0], cpu), min(old[1], session))
    bare = per_test_ms(args.tests, watched=False)
    watched = per_test_ms(args.tests, watched=True)
    base_cpu, base_session = best["without the plugin"]
    print(f"{args.tests} trivial async tests (pytest-asyncio, a loop per test), "
          f"best of {args.rounds}:")  # fmt: skip
    for name, (cpu, session) in best.items():
        per_test = (cpu - base_cpu) / args.tests * 1000.0
        print(f"  {name:20} CPU {cpu:6.2f} s ({cpu - base_cpu:+.2f} s, {per_test:+.2f} ms per "
              f"test); session {session:6.2f} s ({session - base_session:+.2f} s)")  # fmt: skip
    print(f"the watch alone, median of {args.tests}: a trivial test on a fresh loop "
          f"{bare:.3f} ms bare, {watched:.3f} ms watched ({watched - bare:+.3f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
