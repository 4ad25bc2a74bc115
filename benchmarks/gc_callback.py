"""What timing every garbage collection costs: the probe's ``gc.callbacks`` entry per
collection, and what the collections of a busy worker add up to per second.

Best of several rounds each way, rounds alternating:

- a young collection (``gc.collect(0)`` of a nearly empty generation: the cheapest there is,
  so the callback's share is the largest) with no callback, with an empty Python callback
  (what CPython's callback machinery costs: an info dict and two calls per collection),
  and with the probe's;
- the probe's callback alone, called as the collector calls it ("start", then "stop").

    .venv/bin/python benchmarks/gc_callback.py [--collections 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import threading
import time

from lagscope.harness.probe.gcpauses import GcTimer

INFO = {"generation": 0, "collected": 0, "uncollectable": 0}


def per_collection_us(count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        gc.collect(0)
    return (time.perf_counter() - start) / count * 1e6


def callback_alone_us(timer: GcTimer, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        timer.callback("start", INFO)
        timer.callback("stop", INFO)
    elapsed = time.perf_counter() - start
    timer.collections.clear()
    return elapsed / count * 1e6


def empty(phase: str, info: dict[str, int]) -> None:
    """A callback that does nothing: CPython's cost of calling one."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    timer = GcTimer(loop_thread_id=threading.get_ident())
    off, bare, on, alone = [], [], [], []
    per_collection_us(args.collections)  # warm up
    for _ in range(args.rounds):
        off.append(per_collection_us(args.collections))
        gc.callbacks.append(empty)
        bare.append(per_collection_us(args.collections))
        gc.callbacks.remove(empty)
        timer.install()
        on.append(per_collection_us(args.collections))
        timer.uninstall()
        timer.collections.clear()
        alone.append(callback_alone_us(timer, args.collections))
    best_off, best_bare, best_on, best_alone = min(off), min(bare), min(on), min(alone)
    print(f"young collection: {best_off:.2f} µs without a callback, {best_bare:.2f} µs with an "
          f"empty one, {best_on:.2f} µs with the probe's ({best_on - best_off:+.2f} µs per "
          f"collection, {best_on - best_bare:+.2f} µs over the empty one)")  # fmt: skip
    print(f"callback alone: {best_alone:.2f} µs per collection")
    for rate in (100, 1000):
        print(f"at {rate:,} collections a second: {rate * best_alone / 1000:.2f} ms of CPU per "
              f"second ({rate * best_alone / 1e4:.3f}% of one core)")  # fmt: skip


if __name__ == "__main__":
    main()
