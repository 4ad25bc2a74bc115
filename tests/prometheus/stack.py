"""Real processes for the Prometheus tests: shop's servers, Prometheus, a bounded load.

Everything listens on 127.0.0.1 at a free port, each process in its own group
(``Child``), and ``Stack.stop`` ends them all: tests use it as a context manager.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from lagscope.harness.run.processes import Child, free_port

from lagscope import rundir, servers

LOOPBACK = "127.0.0.1"


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("Prometheus is not installed (make ops-tools)")
    return found


def wait_until(check: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except httpx.HTTPError as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout_s:g}s (last: {last!r})")


class Stack:
    """The processes of one test, started in order and stopped in reverse."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.children: list[Child] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, *,
        cwd: Path | None = None,
    ) -> Child:  # fmt: skip
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        log = self.tmp / "logs" / f"{name}.log"
        child = Child(name, argv, env=full_env, log_path=log, cwd=cwd)
        self.children.append(child)
        return child

    def serve(
        self, name: str, argv: list[str], url: str, env: dict[str, str] | None = None, *,
        cwd: Path | None = None,
    ) -> Child:  # fmt: skip
        child = self.start(name, argv, env, cwd=cwd)

        def answers() -> bool:
            if child.exited() is not None:
                raise AssertionError(f"{name} exited: {child.last_log_line()}")
            try:
                httpx.get(url, timeout=1.0)
            except httpx.TransportError:
                return False
            return True

        wait_until(answers, timeout_s=60, what=f"{name} answering at {url}")
        return child

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop(grace_s=5.0)
        self.children.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted((self.tmp / "logs").glob("*.log"))
        )


@contextmanager
def stack(tmp: Path) -> Iterator[Stack]:
    s = Stack(tmp)
    try:
        yield s
    except BaseException:
        print(s.logs(), file=sys.stderr)
        raise
    finally:
        s.stop()


def start_downstream(s: Stack, *, latency_ms: float = 50.0) -> str:
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    argv = [sys.executable, "-m", "uvicorn", servers.DOWNSTREAM_APP, "--host", LOOPBACK,
            "--port", str(port), "--log-level", "warning"]  # fmt: skip
    s.serve("downstream", argv, url + "/_config", {"DOWNSTREAM_LATENCY_MS": f"{latency_ms:g}"})
    return url


def start_shop(
    s: Stack, *, server: str, workers: int, downstream: str, faults: str = ""
) -> tuple[str, Path]:
    """shop through the probe's factory with metrics only (no run directory)."""
    port = free_port()
    multiproc = s.tmp / "prometheus-multiproc"
    multiproc.mkdir()
    env = {
        rundir.ENV_APP: servers.SHOP_APP,
        rundir.ENV_METRICS_PATH: "/metrics",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "SHOP_DOWNSTREAM_URL": downstream,
        "SHOP_FAULTS": faults,
        "SHOP_LOG_DIR": str(s.tmp),  # not the machine's temporary folder
        "DATABASE_URL": f"sqlite+aiosqlite:///{s.tmp / 'shop.sqlite3'}",
    }
    if server == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", f"{servers.PROBE_FACTORY}()",
                "--bind", f"{LOOPBACK}:{port}", "--workers", str(workers), "--worker-class",
                servers.GUNICORN_WORKERS["auto"], "--graceful-timeout", "3"]  # fmt: skip
    else:
        argv = [sys.executable, "-m", "uvicorn", servers.PROBE_FACTORY, "--factory",
                "--host", LOOPBACK, "--port", str(port), "--workers", str(workers),
                "--no-access-log", "--timeout-graceful-shutdown", "3"]  # fmt: skip
    url = f"http://{LOOPBACK}:{port}"
    s.serve("target", argv, url + "/health", env)
    return url, multiproc


class Prometheus:
    """A Prometheus server on loopback scraping ``targets`` every second."""

    @classmethod
    def attach(cls, url: str) -> Prometheus:
        """A client of a Prometheus already running at ``url``."""
        prom = cls.__new__(cls)
        prom.url = url
        wait_until(prom.ready, timeout_s=30, what="Prometheus ready")
        return prom

    def __init__(self, s: Stack, *, targets: list[str], rule_files: list[Path]) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{
                "job_name": "lagscope",
                "static_configs": [{"targets": [t.removeprefix("http://") for t in targets]}],
            }],
        }  # fmt: skip
        path = s.tmp / "prometheus.yml"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
        argv = [prometheus_binary(), f"--config.file={path}",
                f"--storage.tsdb.path={s.tmp / 'prometheus-data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}", "--log.level=warn"]  # fmt: skip
        s.serve("prometheus", argv, self.url + "/-/ready")
        wait_until(self.ready, timeout_s=30, what="Prometheus ready")

    def ready(self) -> bool:
        return httpx.get(self.url + "/-/ready", timeout=2.0).status_code == 200

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=5.0)
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        body = httpx.get(self.url + "/api/v1/alerts", timeout=5.0).json()
        found: list[dict[str, Any]] = body["data"]["alerts"]
        return found

    def rule_health(self) -> list[tuple[str, str]]:
        body = httpx.get(self.url + "/api/v1/rules", timeout=5.0).json()
        return [(r["name"], r["health"]) for g in body["data"]["groups"] for r in g["rules"]]


class ShopLoad:
    """``threads`` clients browsing and ordering at ``url`` until stopped (or ``max_s``)."""

    def __init__(self, url: str, *, threads: int = 6, max_s: float = 60.0) -> None:
        assert url.startswith(f"http://{LOOPBACK}:"), url  # load only at loopback
        self.url = url
        self.max_s = max_s
        self.sent = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"shop-load-{n}", daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> ShopLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _run(self, n: int) -> None:
        deadline = time.monotonic() + self.max_s
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                i += 1
                try:
                    if i % 3 == 0:
                        client.post("/orders", json={"product_id": 1 + (i + n) % 100})
                    else:
                        client.get(f"/products/{1 + (i * 7 + n) % 100}")
                    self.sent += 1
                except httpx.HTTPError:
                    time.sleep(0.05)
