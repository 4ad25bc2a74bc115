"""Load goes to loopback only, unless the user opts in."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lagscope.harness.cli.main import main

from lagscope.loopback import (
    REFUSED_ERROR,
    RemoteTargetRefused,
    check,
    is_loopback_url,
    refusal,
    refused_url,
)


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


def test_a_refusal_s_error_names_the_url_and_the_opt_in() -> None:
    refused = refusal("http://10.255.255.1/steal")
    error = f"{type(refused).__name__}: {refused}"
    assert error.startswith(REFUSED_ERROR)
    assert "not a loopback address" in error
    assert "pass --allow-remote-target to opt in" in error
    assert refused_url(error) == "http://10.255.255.1/steal"
    assert refused_url("ConnectError: [Errno 111] Connection refused") is None
    assert refused_url(None) is None


@pytest.mark.e2e
def test_a_scenario_naming_a_remote_url_sends_nothing_there_and_counts_it_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ".invalid" never resolves (RFC 2606): even a broken guard could not reach anything.
    scenario = tmp_path / "remote.py"
    scenario.write_text(
        "from locust import FastHttpUser, constant, task\n"
        "class Remote(FastHttpUser):\n"
        "    wait_time = constant(0.1)\n"
        "    @task\n"
        "    def remote(self):\n"
        "        self.client.get('http://shop.example.invalid/products', name='remote')\n"
        "        self.client.get('/never-reached')  # the refusal ends the task\n"
        "    @task\n"
        "    def local(self):\n"
        "        self.client.get('/health', name='/health')\n"
    )
    out = tmp_path / "run"
    code = main(["run", "--scenario", str(scenario), "--duration", "3s", "--users", "2",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    requests = pd.read_parquet(out / "requests.parquet")
    assert set(requests["name"]) == {"/health", "remote"}
    refused = requests.loc[requests["name"] == "remote"]
    assert len(refused) > 3
    assert (refused["status"] == 0).all()
    assert not refused["ok"].any()
    assert set(refused["error"]) == {
        "RemoteTargetRefused: refused to send load to http://shop.example.invalid/products: "
        "not a loopback address (lagscope sends load to 127.0.0.1/localhost only); "
        "pass --allow-remote-target to opt in"
    }
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (event,) = [e for e in events if e["event"] == "remote_target_refused"]  # the first only
    assert event["url"] == "http://shop.example.invalid/products"
    assert (event["source"], event["name"], event["method"]) == ("load", "remote", "GET")
    log = (out / "logs" / "locust.log").read_text()
    assert "Traceback" not in log
    ours = [line for line in log.splitlines() if "/lagscope.loopback: " in line]
    assert len(ours) == 2  # the first refusal, then the count (Locust's own table aside)
    assert "refused to send load to http://shop.example.invalid/products" in ours[0]
    assert f"refused {len(refused)} requests to addresses that are not loopback" in ours[1]
    printed = " ".join(capsys.readouterr().out.split())
    assert (
        f"self-check: {len(refused)} requests went to addresses that are not loopback "
        "(e.g. http://shop.example.invalid/products) and were refused, not sent"
    ) in printed
