"""Load goes to loopback only, unless the user opts in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.loopback import RemoteTargetRefused, check, is_loopback_url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/x", "http://127.1.2.3/", "http://localhost/", "http://[::1]:80/"]
)
def test_loopback_urls_pass(url: str) -> None:
    assert is_loopback_url(url)
    assert check(url) == url


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://192.168.1.1/", "https://example.com/", "http://0.0.0.0/"]
)
def test_other_urls_are_refused_with_the_way_to_opt_in(url: str) -> None:
    assert not is_loopback_url(url)
    with pytest.raises(RemoteTargetRefused, match="--allow-remote-target"):
        check(url)


@pytest.mark.e2e
def test_a_scenario_naming_a_remote_url_sends_nothing_there(tmp_path: Path) -> None:
    # ".invalid" never resolves (RFC 2606): even a broken guard could not reach anything.
    scenario = tmp_path / "remote.py"
    scenario.write_text(
        "from locust import FastHttpUser, constant, task\n"
        "class Remote(FastHttpUser):\n"
        "    wait_time = constant(0.1)\n"
        "    @task\n"
        "    def remote(self):\n"
        "        self.client.get('http://shop.example.invalid/products', name='remote')\n"
        "    @task\n"
        "    def local(self):\n"
        "        self.client.get('/health', name='/health')\n"
    )
    out = tmp_path / "run"
    code = main(["run", "--scenario", str(scenario), "--duration", "3s", "--users", "2",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    requests = pd.read_parquet(out / "requests.parquet")
    assert set(requests["name"]) == {"/health"}
    assert "refused to send load to http://shop.example.invalid/products" in (
        (out / "logs" / "locust.log").read_text()
    )
