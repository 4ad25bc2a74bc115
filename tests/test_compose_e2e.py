"""The compose stack, natively: each service's command as ``docker-compose config`` resolves
it, run here with the service addresses mapped to 127.0.0.1 and free ports.

downstream, target (two workers, metrics), the Locust master with two workers, and
Prometheus with the configuration it mounts (targets mapped) and the rules its image
generates (the Dockerfile's RUN line).  PostgreSQL is the CI's throwaway server when
LAGSCOPE_TEST_POSTGRES_URL is set, else shop's SQLite file; Grafana cannot be installed
here (tests/test_dashboard.py checks its files), and Prometheus runs every dashboard query.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from lagscope.harness.run.processes import free_port

from tests.prometheus.stack import LOOPBACK, Prometheus, prometheus_binary, stack, wait_until
from tests.test_compose import REPO, dockerfile_steps, resolved
from tests.test_dashboard import load as load_dashboard
from tests.test_dashboard import queries

pytestmark = pytest.mark.e2e
PORT_FLAGS = {"--port", "--master-bind-port", "--web-port", "--master-port"}


class Addresses:
    """Compose's service:port addresses -> 127.0.0.1 and a free port each."""

    def __init__(self, services: dict[str, Any]) -> None:
        self.hosts = set(services)
        self.ports: dict[str, int] = {}

    def port(self, port: str) -> str:
        if port not in self.ports:
            self.ports[port] = free_port()
        return str(self.ports[port])

    def text(self, value: str) -> str:
        value = value.replace("0.0.0.0", LOOPBACK)
        pattern = rf"\b({'|'.join(sorted(self.hosts))}|{re.escape(LOOPBACK)}):(\d+)"
        return re.sub(pattern, lambda m: f"{LOOPBACK}:{self.port(m.group(2))}", value)

    def argv(self, argv: list[str]) -> list[str]:
        mapped: list[str] = []
        for arg in argv:
            if mapped and mapped[-1] in PORT_FLAGS:
                mapped.append(self.port(arg))
            elif mapped and mapped[-1] == "--master-host" and arg in self.hosts:
                mapped.append(LOOPBACK)
            else:
                mapped.append(self.text(arg))
        return mapped


def python_argv(argv: list[str]) -> list[str]:
    assert argv[0] == "python", argv
    return [sys.executable, *argv[1:]]


def test_every_service_runs_natively_as_composed(tmp_path: Path) -> None:
    prometheus_binary()
    compose = resolved({"LOCUST_RUN_TIME": "40s", "SHOP_FAULTS": "blocking_io"})
    services = compose["services"]
    at = Addresses(services)

    def env_of(name: str) -> dict[str, str]:
        return {k: at.text(str(v)) for k, v in (services[name].get("environment") or {}).items()}

    with stack(tmp_path) as s:
        s.serve("downstream", python_argv(at.argv(services["downstream"]["command"])),
                f"http://{LOOPBACK}:{at.port('8001')}/_config", env_of("downstream"),
                cwd=REPO)  # fmt: skip

        target_env = env_of("target")
        multiproc = tmp_path / "multiproc"  # the tmpfs: empty at each start
        multiproc.mkdir()
        target_env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc)
        target_env["SHOP_LOG_DIR"] = str(tmp_path)  # not the machine's temporary folder
        postgres = os.environ.get("LAGSCOPE_TEST_POSTGRES_URL")
        if postgres:
            target_env["DATABASE_URL"] = postgres
        else:
            target_env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"
        target_url = f"http://{LOOPBACK}:{at.port('8000')}"
        s.serve("target", python_argv(at.argv(services["target"]["command"])),
                target_url + "/health", target_env, cwd=REPO)  # fmt: skip

        web = f"http://{LOOPBACK}:{at.port('8089')}"
        s.serve("locust", python_argv(at.argv(services["locust"]["command"])), web, cwd=REPO)
        for n in (1, 2):
            s.start(f"loadgen-{n}", python_argv(at.argv(services["loadgen"]["command"])),
                    cwd=REPO)  # fmt: skip

        # Prometheus' image: the rules its Dockerfile generates, the config it copies.
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir()
        run = next(a for i, a in dockerfile_steps(REPO / "deploy/prometheus/Dockerfile")
                   if i == "RUN" and "lagscope slo rules" in a)  # fmt: skip
        command = run.split("&&")[-1].split()
        assert command[:3] == ["lagscope", "slo", "rules"]
        command = [a.replace("/rules/", f"{rules_dir}/") for a in command]
        lagscope = shutil.which("lagscope", path=str(Path(sys.executable).parent))
        assert lagscope is not None
        s.start("rules", [lagscope, *command[1:]]).popen.wait(timeout=60)
        config_text = at.text((REPO / "deploy/prometheus/prometheus.yml").read_text())
        config = yaml.safe_load(config_text.replace("/etc/prometheus/rules/", f"{rules_dir}/"))
        config_path = tmp_path / "prometheus.yml"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        paths = {"/etc/prometheus/prometheus.yml": str(config_path),
                 "=/prometheus": f"={tmp_path / 'tsdb'}"}  # fmt: skip
        prom_argv = [prometheus_binary()]
        for arg in at.argv(services["prometheus"]["command"]):
            for image_path, here in paths.items():
                arg = arg.replace(image_path, here)
            prom_argv.append(arg)
        prom_url = f"http://{LOOPBACK}:{at.port('9090')}"
        s.serve("prometheus", prom_argv, prom_url + "/-/ready")
        prom = Prometheus.attach(prom_url)

        def driving() -> dict[str, Any] | None:
            stats: dict[str, Any] = httpx.get(web + "/stats/requests", timeout=5).json()
            return stats if stats.get("worker_count") == 2 and stats["total_rps"] > 0 else None

        stats = wait_until(driving, timeout_s=60, what="the master driving load, two workers")
        assert stats["state"] in ("running", "spawning")
        wait_until(lambda: prom.query('up{job="lagscope"} == 1'), timeout_s=30,
                   what="Prometheus scraping the target")  # fmt: skip
        wait_until(lambda: prom.query("sum(rate(http_requests_total[30s])) > 0"),
                   timeout_s=60, what="the load in Prometheus")  # fmt: skip
        wait_until(
            lambda: prom.query('lagscope_loop_stalls_total{location=~".*blocking_io.py:31"}'),
            timeout_s=30, what="the seeded fault's stalls",
        )  # fmt: skip
        health = wait_until(lambda: prom.rule_health() if all(h != "unknown" for _, h in
                                                                prom.rule_health()) else None,
                            timeout_s=30, what="every rule evaluated")  # fmt: skip
        assert {h for _, h in health} == {"ok"}, health
        for expr in queries(load_dashboard()):
            prom.query(expr)  # each dashboard query runs without error
        # The error budget panel has data: its series is recorded from another recorded
        # series, so it appears an evaluation (5 s) after that one (CI once queried between).
        budget = queries(load_dashboard())[0]
        wait_until(lambda: prom.query(budget), timeout_s=30, what="the error budget's series")
