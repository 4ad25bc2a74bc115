"""docker-compose.yml validates, and every image is built from files in the repository.

No Docker engine runs here: Debian's docker-compose validates the file (``config``
needs no engine), the Dockerfiles are read, and tests/test_compose_e2e.py runs each
service's command natively.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
SERVICES = {"postgres", "downstream", "target", "locust", "loadgen", "prometheus", "grafana"}


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose is not installed (make ops-tools)")
    return found


def resolved(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as docker-compose resolves it (anchors, interpolation, defaults)."""
    done = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config"], capture_output=True, text=True,
        timeout=60, check=False, env={**os.environ, **(env or {})}, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = yaml.safe_load(done.stdout)
    return data


def dockerfile_steps(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            steps.append((instruction.upper(), rest.strip()))
    return steps


def test_the_compose_file_validates_and_is_no_stub() -> None:
    compose = resolved()
    assert set(compose["services"]) == SERVICES
    assert "STUB" not in COMPOSE.read_text()


def test_every_built_image_comes_from_files_in_the_repository() -> None:
    for name, service in resolved()["services"].items():
        if "build" not in service:
            assert name == "postgres", f"{name} neither builds nor is the database"
            assert re.fullmatch(r"postgres:\d+\.\d+-\w+", service["image"])  # pinned
            continue
        context = Path(service["build"]["context"])
        dockerfile = context / service["build"].get("dockerfile", "Dockerfile")
        assert context == REPO
        assert dockerfile.is_file(), dockerfile
        steps = dockerfile_steps(dockerfile)
        for instruction, args in steps:
            if instruction == "FROM":
                image = args.split()[0]
                assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{dockerfile}: {image} unpinned"
                assert not image.endswith(":latest"), f"{dockerfile}: {image}"
            if instruction == "COPY" and not args.startswith("--from"):
                for source in args.split()[:-1]:
                    assert (context / source).exists(), f"{dockerfile}: COPY {source}"


def test_the_load_generators_can_scale() -> None:
    loadgen = resolved()["services"]["loadgen"]
    assert "ports" not in loadgen
    assert "container_name" not in loadgen
    assert "--worker" in loadgen["command"]


def test_the_target_serves_metrics_from_every_worker() -> None:
    target = resolved()["services"]["target"]
    env = target["environment"]
    assert env["LAGSCOPE_METRICS_PATH"] == "/metrics"
    assert env["PROMETHEUS_MULTIPROC_DIR"] in " ".join(target["tmpfs"])  # empty at each start
    assert target["command"][target["command"].index("--workers") + 1] == "2"


def test_prometheus_scrapes_the_target_and_loads_the_generated_rules() -> None:
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["target:8000"]
    steps = dockerfile_steps(REPO / "deploy/prometheus/Dockerfile")
    runs = [args for instruction, args in steps if instruction == "RUN"]
    assert any("lagscope slo rules --slo default --out /rules/slo.yml" in r for r in runs)
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
