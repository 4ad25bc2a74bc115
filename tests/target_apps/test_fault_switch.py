"""A run-time fault switch reaches every worker: the state file's rules in process, then
shop on real uvicorn and gunicorn workers.

A keep-alive connection stays with the worker that accepted it, so one client pinned
to each worker (found by the ``pid`` the admin GET reports) asks each worker in turn
what it has switched on.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lagscope.harness.run.processes import Child, free_port
from lagscope.target_apps.shop import fault_switch, faults
from lagscope.target_apps.shop.admin import PATH, TOKEN_ENV
from lagscope.target_apps.shop.fault_switch import FILE_ENV, POLL_S, encode

TOKEN = "per-run-secret"
WORKERS = 2
BOUND_S = 2 * POLL_S  # from the write of the state file to the last worker following it
START_TIMEOUT_S = 60.0


@pytest.fixture
def state_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """This process as one worker following ``tmp_path/faults.json``; its faults restored."""
    path = tmp_path / "faults.json"
    monkeypatch.setenv(FILE_ENV, str(path))
    before = set(faults.enabled)
    yield path
    faults.set_enabled(before)


def written_by_another_worker(path: Path, names: list[str]) -> None:
    path.write_bytes(encode(names, pid=1, t=time.time()))


def test_a_worker_applies_a_switch_another_worker_wrote_once(state_file: Path) -> None:
    written_by_another_worker(state_file, ["cpu_bound"])
    assert fault_switch.refresh() is True
    assert faults.enabled == {"cpu_bound"}
    assert fault_switch.refresh() is False  # unchanged: nothing to apply (and no side effect)


def test_no_file_yet_leaves_the_start_state(state_file: Path) -> None:
    faults.set_enabled(["log_flood"])  # as SHOP_FAULTS left it
    assert fault_switch.refresh() is False
    assert faults.enabled == {"log_flood"}


def test_an_invalid_state_file_changes_nothing(state_file: Path) -> None:
    faults.set_enabled(["log_flood"])
    for content in (b"{not json", b'{"enabled": "cpu_bound"}', b'{"enabled": ["no_such"]}'):
        state_file.write_bytes(content)
        assert fault_switch.refresh() is False
        assert faults.enabled == {"log_flood"}


def test_a_workers_own_switch_is_not_applied_again(state_file: Path) -> None:
    written_by_another_worker(state_file, ["cpu_bound"])
    fault_switch.switch(["log_flood"])
    assert faults.enabled == {"log_flood"}
    assert fault_switch.refresh() is False


def test_the_last_write_wins_even_when_a_stat_could_not_tell_it_apart(state_file: Path) -> None:
    fault_switch.switch(["cpu_bound"])
    # Same size, written within the same mtime tick: only the bytes differ.
    content = state_file.read_bytes().replace(b"cpu_bound", b"log_flood")
    stat = state_file.stat()
    state_file.write_bytes(content)
    os.utime(state_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert fault_switch.refresh() is True
    assert faults.enabled == {"log_flood"}


def server_argv(server: str, port: int) -> list[str]:
    """Both event loops are covered: gunicorn's workers run asyncio, uvicorn's uvloop.

    Not uvicorn with ``--workers 2 --loop asyncio``: its shared socket carries no protocol
    number, so asyncio leaves Nagle's algorithm on and every keep-alive answer waits
    ~40 ms for the client's delayed ACK, which would swamp what is measured here.
    """
    if server == "gunicorn":
        return [
            sys.executable, "-m", "gunicorn", "lagscope.target_apps.shop.app:app",
            "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
            "--worker-class", "lagscope.harness.probe.gunicorn_workers.AsyncioWorker",
            "--keep-alive", "30", "--graceful-timeout", "3", "--log-level", "warning",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "lagscope.target_apps.shop.app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
        "--loop", "uvloop", "--timeout-keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip


@contextlib.contextmanager
def shop(
    tmp_path: Path, *, server: str = "uvicorn", **env: str
) -> Iterator[dict[int, httpx.Client]]:
    """Serve shop with WORKERS workers sharing ``tmp_path/faults.json``; yield a client
    pinned to each worker, by pid."""
    port = free_port()
    environ = {
        **os.environ,
        TOKEN_ENV: TOKEN,
        FILE_ENV: str(tmp_path / "faults.json"),
        "LAGSCOPE_RUN_DIR": str(tmp_path),  # one database for both workers
        "SHOP_DOWNSTREAM_URL": "http://127.0.0.1:9",  # unused: no test here pays or stocks
        **env,
    }
    child = Child(
        "shop", server_argv(server, port), env=environ, log_path=tmp_path / "logs" / "shop.log"
    )
    pinned: dict[int, httpx.Client] = {}
    try:
        pinned.update(pin_each_worker(child, f"http://127.0.0.1:{port}"))
        yield pinned
    finally:
        for client in pinned.values():
            client.close()
        child.stop()


def pin_each_worker(child: Child, url: str) -> dict[int, httpx.Client]:
    """Open connections until one reaches each worker (the kernel picks who accepts)."""
    pinned: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(pinned) < WORKERS:
        assert child.exited() is None, f"shop exited: {child.last_log_line()}"
        assert time.monotonic() < deadline, f"only workers {sorted(pinned)} answered"
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5.0
        )
        try:
            pid = client.get(PATH).raise_for_status().json()["pid"]
        except httpx.TransportError:
            pid = None
            time.sleep(0.1)
        if pid is None or pid in pinned:
            client.close()
        else:
            pinned[pid] = client
    return pinned


def enabled(client: httpx.Client) -> list[str]:
    names: list[str] = client.get(PATH).raise_for_status().json()["enabled"]
    return names


def switch_and_time(
    pinned: dict[int, httpx.Client], via: int, wanted: list[str], *, state_file: Path
) -> dict[int, float]:
    """PUT ``wanted`` through worker ``via``; return per worker the seconds from the write
    of the state file (its ``t``) until that worker answered with ``wanted``.

    Timed from the write, the first moment another worker can see the switch.  Each
    worker is asked in turn, about a millisecond a GET, so a figure may be late by that.
    """
    pinned[via].put(PATH, json={"enabled": wanted}).raise_for_status()
    written = json.loads(state_file.read_text())["t"]
    seen: dict[int, float] = {}
    while len(seen) < len(pinned) and time.time() - written < 5.0:
        for pid, client in pinned.items():
            if pid not in seen and enabled(client) == wanted:
                seen[pid] = time.time() - written
    assert seen.keys() == pinned.keys(), f"workers {sorted(pinned.keys() - seen)} never switched"
    return seen


@pytest.mark.e2e
@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_a_switch_reaches_every_worker_within_100ms(tmp_path: Path, server: str) -> None:
    state = tmp_path / "faults.json"
    with shop(tmp_path, server=server) as pinned:
        first, second = sorted(pinned)
        assert {pid: enabled(c) for pid, c in pinned.items()} == {first: [], second: []}
        on = switch_and_time(pinned, first, ["cpu_bound", "log_flood"], state_file=state)
        off = switch_and_time(pinned, second, [], state_file=state)
    assert max(on.values()) <= BOUND_S, on
    assert max(off.values()) <= BOUND_S, off


@pytest.mark.e2e
def test_workers_start_from_the_state_file_not_from_shop_faults(tmp_path: Path) -> None:
    # What a worker started (or restarted) after a switch finds.
    (tmp_path / "faults.json").write_bytes(encode(["log_flood"], pid=1, t=time.time()))
    with shop(tmp_path, SHOP_FAULTS="cpu_bound") as pinned:
        assert [enabled(client) for client in pinned.values()] == [["log_flood"]] * WORKERS


@pytest.mark.e2e
def test_shop_faults_hold_until_the_first_switch(tmp_path: Path) -> None:
    with shop(tmp_path, SHOP_FAULTS="cpu_bound") as pinned:
        assert [enabled(client) for client in pinned.values()] == [["cpu_bound"]] * WORKERS
        assert not (tmp_path / "faults.json").exists()


@pytest.mark.e2e
def test_switching_connection_leak_off_returns_the_connections_of_every_worker(
    tmp_path: Path,
) -> None:
    state = tmp_path / "faults.json"
    one_connection = {"SHOP_DB_POOL_SIZE": "1", "SHOP_DB_MAX_OVERFLOW": "0"}
    with shop(tmp_path, **one_connection, SHOP_DB_POOL_TIMEOUT_S="1") as pinned:
        first, second = sorted(pinned)
        switch_and_time(pinned, first, ["connection_leak"], state_file=state)
        for client in pinned.values():  # each worker leaks its only connection
            assert client.get("/products/1").status_code == 200
        switch_and_time(pinned, first, [], state_file=state)
        # The second worker never saw the PUT: only its own follower can have closed
        # the leaked session; else this waits for the pool and fails.
        statuses = {pid: client.get("/products/2").status_code for pid, client in pinned.items()}
    assert statuses == {first: 200, second: 200}
