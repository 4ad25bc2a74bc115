"""Self-checks warn when the report's own numbers are doubtful, and only then."""

from __future__ import annotations

import pandas as pd
from lagscope.reports.selfcheck import (
    connection_failures,
    load_generator_saturated,
    remote_target_refused,
    too_few_requests,
)


def _resources(cpu: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"t": range(len(cpu)), "role": "load_generator", "pid": 5, "cpu_pct": cpu})


def test_a_saturated_load_generator_is_flagged() -> None:
    assert load_generator_saturated(_resources([95.0, 99.0, 92.0]))[0]["kind"] == (
        "load_generator_saturated"
    )
    assert load_generator_saturated(_resources([30.0, 95.0, 40.0])) == []


def test_too_few_requests_for_the_quoted_tail() -> None:
    kinds = too_few_requests({"count": 500, "p99_ms": 1.0, "p999_ms": 2.0})
    assert len(kinds) == 1
    assert "P99.9" in kinds[0]["message"]
    assert len(too_few_requests({"count": 50, "p99_ms": 1.0, "p999_ms": 2.0})) == 2
    assert too_few_requests({"count": 1000, "p99_ms": 1.0, "p999_ms": 2.0}) == []


def test_requests_that_never_connected_are_flagged_with_an_example() -> None:
    requests = pd.DataFrame({"status": [200, 0, 0], "error": [None, "ConnectionRefused", None]})
    (warning,) = connection_failures(requests)
    assert "2 requests" in warning["message"]
    assert "ConnectionRefused" in warning["message"]
    assert connection_failures(requests.iloc[:1]) == []


REFUSED = (
    "RemoteTargetRefused: refused to send load to http://10.255.255.1/steal: not a loopback "
    "address (lagscope sends load to 127.0.0.1/localhost only); pass --allow-remote-target "
    "to opt in"
)


def test_requests_refused_as_not_loopback_are_one_warning_naming_an_url() -> None:
    requests = pd.DataFrame(
        {"status": [200, 0, 0, 0], "error": [None, REFUSED, REFUSED, "ConnectError: reset"]}
    )
    (warning,) = remote_target_refused(requests)
    assert warning["kind"] == "remote_target_refused"
    assert warning["message"].startswith(
        "2 requests went to addresses that are not loopback (e.g. http://10.255.255.1/steal)"
    )
    assert "--allow-remote-target" in warning["message"]
    assert remote_target_refused(requests.iloc[[0, 3]]) == []


def test_refused_requests_are_not_reported_as_connection_failures() -> None:
    requests = pd.DataFrame({"status": [0, 0, 200], "error": [REFUSED, "ConnectError: x", None]})
    (warning,) = connection_failures(requests)
    assert warning["message"].startswith("1 requests failed to connect")
    assert connection_failures(requests.iloc[[0, 2]]) == []
