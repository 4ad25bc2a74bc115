"""As a new user would: ``instrument(app, metrics_path="/metrics")`` in a plain
``uvicorn app:app --workers 2`` (no harness), scraped over HTTP; and the start-up refusal
when several workers run without PROMETHEUS_MULTIPROC_DIR, under uvicorn and gunicorn."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from lagscope.harness.run.processes import free_port
from prometheus_client.parser import text_string_to_metric_families

from lagscope import metric_names as names
from tests.prometheus.stack import LOOPBACK, stack, wait_until

pytestmark = pytest.mark.e2e
APPS = Path(__file__).resolve().parents[1] / "apps"
SEEDED_LINE, RAISED_LINE = (
    next(
        n
        for n, text in enumerate((APPS / "metered/app.py").read_text().splitlines(), 1)
        if marker in text
    )
    for marker in ("SEEDED: blocks the loop", 'raise RuntimeError("seeded failure")')
)
REFUSAL = "runs in 2 worker processes without PROMETHEUS_MULTIPROC_DIR"


def uvicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "metered.app:app", "--workers", "2",
            "--host", LOOPBACK, "--port", str(port), "--app-dir", str(APPS)]  # fmt: skip


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    text = httpx.get(url + "/metrics", timeout=5.0).text
    return [(s.name, s.labels, s.value)
            for f in text_string_to_metric_families(text) for s in f.samples]  # fmt: skip


def test_plain_uvicorn_with_two_workers_exports_every_metric(tmp_path: Path) -> None:
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    env = {names.MULTIPROC_ENV: str(multiproc), "METERED_DB_DIR": str(tmp_path)}
    with stack(tmp_path) as s:
        s.serve("metered", uvicorn(port), url + "/items/0", env)
        with httpx.Client(base_url=url, timeout=10.0) as client:
            for n in range(30):  # enough for both workers to see each route
                client.get(f"/items/{n}")
                client.get("/db")
                httpx.get(url + "/fail", timeout=10.0)  # uvicorn closes a connection on an error
                if n % 5 == 0:
                    client.get("/block")
        workers = wait_until(
            lambda: {lb[names.WORKER] for n, lb, _ in scrape(url) if n == names.RSS},
            timeout_s=20, what="both workers' gauges",
        )  # fmt: skip
        assert len(workers) == 2

        # Each worker adds its requests to the files about once a second.
        def counted() -> bool:
            by_route: dict[str, float] = {}
            for n, lb, v in scrape(url):
                if n == names.HTTP_REQUESTS:
                    by_route[lb[names.ROUTE]] = by_route.get(lb[names.ROUTE], 0.0) + v
            return by_route.get("/fail") == 30 and by_route.get("/items/{item_id}", 0) >= 30

        wait_until(counted, timeout_s=10, what="every request counted")  # both workers' files
        scraped = scrape(url)
        found = {name for name, _, _ in scraped}
        assert names.scraped_names() - found == set()
        escaped: dict[tuple[str, str], float] = {}  # summed over the workers
        for n, lb, v in scraped:
            if n == names.UNHANDLED:
                key = (lb[names.EXCEPTION_TYPE], lb[names.LOCATION])
                escaped[key] = escaped.get(key, 0.0) + v
        # Every exception that escaped, in whichever worker, at the app's line that raised it.
        assert escaped == {("RuntimeError", f"metered/app.py:{RAISED_LINE}"): 30}, escaped
        stall = [lb for n, lb, v in scraped if n == names.LOOP_STALLS and v > 0
                 and lb[names.LOCATION].endswith(f"metered/app.py:{SEEDED_LINE}")]  # fmt: skip
        assert stall, [lb for n, lb, _ in scraped if n == names.LOOP_STALLS]
        assert stall[0][names.ENDPOINT] == "GET /block"
        requests = {(lb[names.ROUTE], lb[names.STATUS]): v
                    for n, lb, v in scraped if n == names.HTTP_REQUESTS}  # fmt: skip
        assert requests[("/items/{item_id}", "200")] >= 30
        assert requests[("/fail", "500")] == 30
        engines = {lb[names.ENGINE] for n, lb, _ in scraped if n == names.DB_SIZE}
        assert engines == {"sqlite"}

        # A worker killed outright: its gauges go at the next scrape, its counts stay.
        dead = sorted(workers)[0]
        os.kill(int(dead), signal.SIGKILL)
        wait_until(
            lambda: len({lb[names.WORKER] for n, lb, _ in scrape(url) if n == names.RSS}
                        - {dead}) == 2,
            timeout_s=30, what="the replacement worker",
        )  # fmt: skip
        after = scrape(url)
        assert dead not in {lb[names.WORKER] for n, lb, _ in after if n == names.RSS}
        still = {(lb[names.ROUTE], lb[names.STATUS]): v
                 for n, lb, v in after if n == names.HTTP_REQUESTS}  # fmt: skip
        assert still[("/fail", "500")] == 30


@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_two_workers_without_the_directory_refuse_to_start(tmp_path: Path, server: str) -> None:
    port = free_port()
    argv = uvicorn(port)
    if server == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", "metered.app:app", "--workers", "2",
                "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", f"{LOOPBACK}:{port}",
                "--chdir", str(APPS)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != names.MULTIPROC_ENV}
    with stack(tmp_path) as s:
        child = s.start("metered", argv, {**env, "METERED_DB_DIR": str(tmp_path)})
        deadline = time.monotonic() + 60
        while child.exited() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert child.exited() is not None, "the server kept running"
        log = child.log_path.read_text(errors="replace")
    assert REFUSAL in log
    assert "Set PROMETHEUS_MULTIPROC_DIR to an empty directory" in log
