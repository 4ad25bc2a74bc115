"""What the Prometheus metrics cost on top of the probe, two ways.

1. End to end: the shop at saturation with ``--metrics`` (scraped every
   ``--scrape-every`` seconds, as Prometheus would) and without, alternating rounds;
   each round's throughput, P99 and the target's CPU time per request, then the medians
   and the paired ratios.  Budget: 1 % of throughput.  On a shared machine whose other
   load swings, these swing by tens of per cent from run to run.
2. In process (``--inprocess N``): N requests called straight into a small FastAPI app
   (no sockets, no load generator), bare, with the probe alone and with the probe and
   metrics in multiprocess mode, in fresh processes, alternating; the process's CPU per
   request; then what one scrape costs.  Steady where (1) is not.

    .venv/bin/python benchmarks/metrics_overhead.py [--rounds 5] [--duration 10s]
    .venv/bin/python benchmarks/metrics_overhead.py --inprocess 20000 [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def scrape_while_running(run_dir: Path, every_s: float, stop: threading.Event) -> list[float]:
    """Scrape the target's /metrics every ``every_s`` once the run announces it; the
    seconds each scrape took."""
    events = run_dir / "events.jsonl"
    url = None
    took: list[float] = []
    while not stop.is_set() and url is None:
        if events.is_file():
            for line in events.read_text().splitlines():
                event = json.loads(line)
                if event.get("event") == "metrics_ready":
                    url = event["url"]
        stop.wait(0.2)
    while url is not None and not stop.wait(every_s):
        start = time.perf_counter()
        try:
            httpx.get(url, timeout=5.0)
        except httpx.HTTPError:
            continue
        took.append(time.perf_counter() - start)
    return took


def one_run(out: Path, *, metrics: bool, args: argparse.Namespace) -> dict[str, float]:
    argv = [
        sys.executable, "-m", "lagscope", "run", "--app", "shop",
        "--scenario", str(HERE / "saturate.py"), "--users", str(args.users), "--spawn-rate",
        "100", "--duration", args.duration, "--workers", str(args.workers), "--out", str(out),
    ]  # fmt: skip
    stop = threading.Event()
    scrapes: list[float] = []
    scraper = None
    if metrics:
        argv.append("--metrics")
        scraper = threading.Thread(
            target=lambda: scrapes.extend(scrape_while_running(out, args.scrape_every, stop))
        )
        scraper.start()
    try:
        subprocess.run(argv, check=True, capture_output=True)
    finally:
        stop.set()
        if scraper is not None:
            scraper.join()
    summary = json.loads((out / "summary.json").read_text())
    agg = summary["requests"]["aggregate"]
    target_cpu = summary["resources"]["target"]["cpu_pct_mean"]
    return {
        "rps": agg["rps"],
        "p99_ms": agg["p99_ms"],
        "cpu_us_per_req": target_cpu / 100 * 1e6 / agg["rps"],
        "target_cpu": target_cpu,
        "scrapes": len(scrapes),
        "scrape_ms": 1000 * statistics.median(scrapes) if scrapes else 0.0,
    }


CHILD = """
import asyncio, os, sys, tempfile, time
mode, n = sys.argv[1], int(sys.argv[2])
if mode == "metrics":
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
from fastapi import FastAPI
from lagscope import instrument

api = FastAPI()

@api.get("/products/{product_id}")
async def product(product_id: int) -> dict[str, object]:
    return {"id": product_id, "name": f"product {product_id}", "price_cents": 100 * product_id}

run_dir = tempfile.mkdtemp()
app = {"bare": api, "probe": instrument(api, run_dir=run_dir),
       "metrics": instrument(api, run_dir=run_dir, metrics_path="/metrics")}[mode]

async def call(path: str) -> None:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [], "server": ("t", 80)}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    await app(scope, receive, send)

async def lifespan(kind: str, queue: asyncio.Queue) -> None:
    await queue.put({"type": f"lifespan.{kind}"})

async def main() -> None:
    inbox, outbox = asyncio.Queue(), asyncio.Queue()
    task = None
    if mode != "bare":
        async def send(m): await outbox.put(m)
        task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"}); await outbox.get()
    for i in range(500):
        await call(f"/products/{i % 100}")
    start = time.process_time()
    for i in range(n):
        await call(f"/products/{i % 100}")
    cpu = time.process_time() - start
    scrape = 0.0
    if mode == "metrics":
        start = time.process_time()
        for _ in range(20):
            await call("/metrics")
        await asyncio.sleep(0.5)
        scrape = (time.process_time() - start) / 20
    if task is not None:
        await inbox.put({"type": "lifespan.shutdown"}); await outbox.get(); await task
    print(cpu / n * 1e6, scrape * 1e3)

asyncio.run(main())
"""


def inprocess(requests: int, rounds: int) -> None:
    """CPU per request of a small app: bare, probe alone, probe + metrics; one scrape."""
    modes = ("bare", "probe", "metrics")
    per: dict[str, list[float]] = {m: [] for m in modes}
    scrapes: list[float] = []
    for rnd in range(rounds):
        for mode in modes if rnd % 2 == 0 else tuple(reversed(modes)):
            done = subprocess.run([sys.executable, "-c", CHILD, mode, str(requests)],
                                  check=True, capture_output=True, text=True)  # fmt: skip
            us, scrape_ms = map(float, done.stdout.split())
            per[mode].append(us)
            if mode == "metrics":
                scrapes.append(scrape_ms)
        print(f"round {rnd + 1}: " + ", ".join(f"{m} {per[m][-1]:.1f} µs" for m in modes)
              + " CPU per request", flush=True)  # fmt: skip
    med = {m: statistics.median(per[m]) for m in modes}
    added = [a - b for a, b in zip(per["metrics"], per["probe"], strict=True)]
    print(f"median CPU per request: bare {med['bare']:.1f} µs, probe {med['probe']:.1f} µs, "
          f"probe+metrics {med['metrics']:.1f} µs")  # fmt: skip
    print(f"metrics add {statistics.median(added):.1f} µs per request (paired: "
          + ", ".join(f"{a:+.1f}" for a in added) + "); one scrape (the app's own series, "
          f"off the loop) {statistics.median(scrapes):.1f} ms of CPU")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", type=int, metavar="N", help="the in-process measure")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scrape-every", type=float, default=1.0, metavar="SECONDS")
    args = parser.parse_args()
    if args.inprocess:
        inprocess(args.inprocess, args.rounds)
        return
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for metrics in (False, True) if rnd % 2 == 0 else (True, False):
                out = Path(tmp) / f"r{rnd}-{'on' if metrics else 'off'}"
                r = one_run(out, metrics=metrics, args=args)
                results[metrics].append(r)
                scraped = (f"  {r['scrapes']:.0f} scrapes, median {r['scrape_ms']:.1f} ms"
                           if metrics else "")  # fmt: skip
                print(f"round {rnd + 1} metrics {'on ' if metrics else 'off'}: "
                      f"{r['rps']:8.1f} req/s  p99 {r['p99_ms']:6.2f} ms  target CPU "
                      f"{r['target_cpu']:5.1f}% ({r['cpu_us_per_req']:6.1f} µs/req){scraped}",
                      flush=True)  # fmt: skip
    keys = ("rps", "p99_ms", "cpu_us_per_req")
    on = {k: statistics.median(r[k] for r in results[True]) for k in keys}
    off = {k: statistics.median(r[k] for r in results[False]) for k in keys}
    paired = [(a["rps"] / b["rps"] - 1, a["cpu_us_per_req"] / b["cpu_us_per_req"] - 1)
              for a, b in zip(results[True], results[False], strict=True)]  # fmt: skip
    print(f"median probe alone:   {off['rps']:.1f} req/s, p99 {off['p99_ms']:.2f} ms, "
          f"{off['cpu_us_per_req']:.1f} µs CPU/req")  # fmt: skip
    print(f"median probe+metrics: {on['rps']:.1f} req/s, p99 {on['p99_ms']:.2f} ms, "
          f"{on['cpu_us_per_req']:.1f} µs CPU/req")  # fmt: skip
    throughput = [t for t, _ in paired]
    cpu = [c for _, c in paired]
    print(
        "paired rounds (metrics vs alone): throughput "
        + ", ".join(f"{t:+.1%}" for t in throughput)
        + f" (median {statistics.median(throughput):+.1%}); CPU per request "
        + ", ".join(f"{c:+.1%}" for c in cpu)
        + f" (median {statistics.median(cpu):+.1%})"
    )
    print(f"metrics cost: throughput {on['rps'] / off['rps'] - 1:+.2%} of medians (budget "
          f"-1%), paired median {statistics.median(throughput):+.2%}")  # fmt: skip


if __name__ == "__main__":
    main()
