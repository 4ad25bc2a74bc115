"""Starting a server: a port another process took between choosing and binding is retried;
a server that exits because a service its app needs did not answer is named in one line."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lagscope.harness.run.config import RunConfig
from lagscope.harness.run.processes import Child, free_port
from lagscope.harness.run.target import PORT_ATTEMPTS, Startup, check_alive, start_downstream

from lagscope.errors import TargetStartError

pytestmark = pytest.mark.e2e


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another process holds (bound and listening, never answering)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def config(tmp_path: Path) -> RunConfig:
    return RunConfig(app="shop", app_import="x:app", scenario="shop",
                     scenario_file=tmp_path / "s.py", users=1, spawn_rate=1.0,
                     duration_s=1.0, out=tmp_path)  # fmt: skip


def test_a_taken_port_is_retried_on_another(tmp_path: Path, taken: int) -> None:
    retried: list[tuple[str, int]] = []
    port = free_port()
    startup = Startup(
        ports=iter([taken, port]), on_port_taken=lambda server, p: retried.append((server, p))
    )
    child, url = start_downstream(config(tmp_path), tmp_path, deadline=time.time() + 60,
                                  startup=startup)  # fmt: skip
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert retried == [("downstream", taken)]
        assert "address already in use" in child.log_path.read_text()  # the first try's words
        assert child.listens_on(port)
    finally:
        child.stop()


def test_ports_taken_every_time_end_in_one_line(tmp_path: Path, taken: int) -> None:
    startup = Startup(ports=iter([taken] * PORT_ATTEMPTS))
    with pytest.raises(TargetStartError) as caught:
        start_downstream(config(tmp_path), tmp_path, deadline=time.time() + 60, startup=startup)
    assert str(caught.value).startswith(
        f"the downstream server found each of {PORT_ATTEMPTS} free ports taken when it bound them"
    )
    assert any("address already in use" in line for line in caught.value.log_tail)


def test_a_server_that_could_not_reach_its_service_names_it_with_its_logs_tail(
    tmp_path: Path,
) -> None:
    # What an app that calls another service in its lifespan logs when that one is down.
    crash = "import httpx; httpx.get('http://127.0.0.1:9/config', timeout=5)"
    child = Child("target", [sys.executable, "-c", crash], env=dict(os.environ),
                  log_path=tmp_path / "target.log")  # fmt: skip
    try:
        child.popen.wait(timeout=60)
        with pytest.raises(TargetStartError) as caught:
            check_alive(child)
    finally:
        child.stop()
    assert str(caught.value).startswith(
        "the app's start-up failed: it could not connect to an HTTP service through httpx"
    )
    assert str(caught.value).endswith(
        f"(the target server exited, code 1; full log: {tmp_path}/target.log, last lines below)"
    )
    assert caught.value.log_tail[-1].startswith("httpx.ConnectError: ")
