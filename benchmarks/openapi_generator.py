"""Does generating requests limit the load?  The openapi scenario against a hand-written
locustfile sending the same requests, on a trivial app, at saturation (no think time).

A trivial app (a list, an item by id, a search with a pattern) runs under uvicorn;
the openapi scenario's plan is built from its schema as ``lagscope run`` builds it.  Then
Locust runs headless, alternately with the openapi scenario (its user with no wait) and
with a hand-written locustfile whose tasks send the same operations with the same ids.
Each round prints the throughput and the load generator's CPU per request; the medians of
the rounds and their ratio come last.  The plan's generation time is printed too (it is
spent before the load, once per run).

    .venv/bin/python benchmarks/openapi_generator.py [--rounds 5] [--seconds 10] [--users 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from lagscope.harness.run.openapi.plan import build_plan
from lagscope.harness.run.processes import free_port

from lagscope import openapi_plan, rundir

# The app is plain ASGI, not FastAPI, so that the server outruns the load generator and
# the generator's own cost is what the throughput measures.  Its schema is FastAPI's for
# the same three operations (SCHEMA_APP), served as a file.
SCHEMA_APP = """
from typing import Annotated
from fastapi import FastAPI, Query

app = FastAPI()

@app.get("/items")
async def items(limit: Annotated[int, Query(ge=1, le=50)] = 20) -> list[dict[str, object]]: ...

@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, object]: ...

@app.get("/search")
async def search(q: Annotated[str, Query(pattern="^[a-z]{1,8}$")], page: int = 1) -> dict: ...
"""
APP = """
import json
from pathlib import Path

SCHEMA = Path(__file__).with_name("schema.json").read_bytes()
ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 51)]
LIST = json.dumps(ITEMS).encode()
ONE = {str(i): json.dumps(item).encode() for i, item in enumerate(ITEMS, 1)}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    status, body = 200, b'{"ok": true}'
    if path == "/openapi.json":
        body = SCHEMA
    elif path == "/items":
        body = LIST
    elif path.startswith("/items/"):
        found = ONE.get(path[7:])
        status, body = (200, found) if found else (404, b'{"detail": "Not Found"}')
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"""
OPENAPI_USER = """
from locust import constant
import lagscope.scenarios.openapi as scenario

class Bench(scenario.OpenAPIUser):
    wait_time = constant(0)
"""
HAND_WRITTEN = """
import random
from locust import FastHttpUser, constant, task

WORDS = ["apple", "pear", "fig", "kiwi", "plum", "lime"]

class Hand(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.rng = random.Random(1)

    @task
    def items(self):
        self.client.get(f"/items?limit={self.rng.randint(1, 50)}", name="/items")

    @task
    def item(self):
        self.client.get(f"/items/{self.rng.randint(1, 50)}", name="/items/{item_id}")

    @task
    def search(self):
        q, page = self.rng.choice(WORDS), self.rng.randint(1, 9)
        self.client.get(f"/search?q={q}&page={page}", name="/search")
"""


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trivial:app", "--port", str(port), "--host",
         "127.0.0.1", "--log-level", "warning", "--no-access-log", "--http", "httptools"],
        cwd=folder,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/openapi.json", timeout=1.0)
            return server, url
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the trivial app did not start")


def round_(
    locustfile: Path, url: str, *, seconds: float, users: int, env: dict[str, str]
) -> tuple[float, float]:
    """(requests/s, load-generator CPU µs per request) of one headless Locust run."""
    locust = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--users",
         str(users), "--spawn-rate", str(users * 10), "--run-time", f"{seconds:g}s",
         "--host", url, "--json", "--skip-log", "--stop-timeout", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    process = psutil.Process(locust.pid)
    cpu = 0.0
    while locust.poll() is None:
        try:
            times = process.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    stats = json.loads(locust.stdout.read() if locust.stdout else b"[]")
    count = sum(entry["num_requests"] for entry in stats)
    start = min(entry["start_time"] for entry in stats)
    end = max(entry["last_request_timestamp"] for entry in stats)
    return count / (end - start), cpu / count * 1e6


def _schema(folder: Path) -> object:
    code = f"import sys, json; sys.path.insert(0, {str(folder)!r}); import schema_app; "
    code += "print(json.dumps(schema_app.app.openapi()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (default: 5)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per round (default: 10)")
    parser.add_argument("--users", type=int, default=20, help="Locust users (default: 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lagscope-bench-") as tmp:
        folder = Path(tmp)
        (folder / "schema_app.py").write_text(SCHEMA_APP, encoding="utf-8")
        (folder / "schema.json").write_text(json.dumps(_schema(folder)), encoding="utf-8")
        (folder / "trivial.py").write_text(APP, encoding="utf-8")
        (folder / "openapi_user.py").write_text(OPENAPI_USER, encoding="utf-8")
        (folder / "hand_written.py").write_text(HAND_WRITTEN, encoding="utf-8")
        server, url = serve(folder)
        try:
            schema = httpx.get(url + "/openapi.json").json()
            started = time.perf_counter()
            plan = build_plan(schema, methods=("GET", "HEAD"), weights={}, seed=0)
            print(f"plan: {len(plan['operations'])} operations in "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms "
                  f"(generation {plan['generation_ms']:.0f} ms)")  # fmt: skip
            openapi_plan.write_plan(folder / rundir.OPENAPI_PLAN, plan)
            env = {**os.environ,
                   rundir.ENV_OPENAPI_PLAN: str(folder / rundir.OPENAPI_PLAN)}  # fmt: skip
            figures: dict[str, list[tuple[float, float]]] = {"openapi": [], "hand-written": []}
            for n in range(args.rounds):
                for name, file in (("openapi", "openapi_user.py"),
                                   ("hand-written", "hand_written.py")):  # fmt: skip
                    rps, cpu_us = round_(folder / file, url, seconds=args.seconds,
                                         users=args.users, env=env)  # fmt: skip
                    figures[name].append((rps, cpu_us))
                    print(f"round {n + 1} {name:>12}: {rps:8.0f} req/s, "
                          f"generator {cpu_us:6.0f} µs CPU per request", flush=True)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)
    medians = {
        name: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in figures.items()
    }
    for name, (rps, cpu_us) in medians.items():
        print(f"median {name:>12}: {rps:8.0f} req/s, generator {cpu_us:6.0f} µs CPU per request")
    ratio = medians["openapi"][0] / medians["hand-written"][0]
    print(f"openapi / hand-written throughput: {ratio:.3f} ({(ratio - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    main()
