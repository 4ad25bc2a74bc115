"""Fault specs: the CLI's words and game-day tables parse to the same injection; mistakes
are one line naming where and the key; the probe reads back what the harness wrote."""

from __future__ import annotations

import pytest

from lagscope.errors import UsageError
from lagscope.injection import (
    KINDS,
    decode_state,
    encode_state,
    from_json,
    from_mapping,
    parse_spec,
)


def test_cli_words_and_a_toml_table_are_the_same_injection() -> None:
    words = parse_spec("dependency_latency host=127.0.0.1:8765 latency=1.5s")
    table = from_mapping(
        {"kind": "dependency_latency", "host": "127.0.0.1:8765", "latency": "1.5s"}, where="f"
    )
    assert words == table
    assert words.params == {"host": "127.0.0.1:8765", "url": "", "latency_ms": 1500.0,
                            "probability": 1.0}  # fmt: skip
    assert words.describe() == "dependency_latency host=127.0.0.1:8765 latency=1.5s"


@pytest.mark.parametrize(
    "spec",
    [
        "dependency_errors url=http://a.test/pay error=connect probability=0.25",
        "dependency_errors host=* error=502",
        "db_latency latency=300ms pattern='^select .* from orders'",
        "loop_block block=100ms every=1s",
        "cpu_burn share=0.3 period=500ms",
        "memory_leak rate=20MB/s limit=300MB",
        "worker_crash signal=SIGTERM",
    ],
)
def test_every_spec_survives_the_trip_to_the_probe_and_back(spec: str) -> None:
    injection = parse_spec(spec)
    assert from_json(injection.to_json()) == injection
    assert from_mapping(injection.to_user(), where="x") == injection
    assert parse_spec(injection.describe()) == injection
    (back,), switch = decode_state(encode_state([injection], switch_id="s1"))
    assert (back, switch) == (injection, "s1")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "is empty"),
        ("slow host=x", "kind 'slow' is unknown; one of dependency_latency"),
        ("dependency_latency latency=1s", "needs exactly one of host or url"),
        ("dependency_latency host=a url=http://a/ latency=1s", "needs exactly one of host or url"),
        ("dependency_latency host=a", "dependency_latency needs latency"),
        ("dependency_latency host=a latency=1.5x", "latency: '1.5x' is not a duration"),
        ("dependency_latency host=a latency=1s delay=2s", "has no parameter 'delay'"),
        (
            "dependency_errors host=a error=99",
            "error must be an HTTP status (100-599) or 'connect'",
        ),
        (
            "dependency_errors host=a probability=1.5",
            "probability must be a number with 0 < p <= 1",
        ),
        ("dependency_errors url=a.test error=503", "url must start with http:// or https://"),
        ("db_latency latency=1s pattern=(", "pattern '(' is not a regular expression"),
        ("loop_block block=1s every=1s", "block must be shorter than every"),
        ("cpu_burn share=1", "share must be a number with 0 < s < 1"),
        ("memory_leak rate=fast", "rate must be a positive size like 20MB/s"),
        ("worker_crash signal=HUP", "signal must be one of SIGKILL, SIGTERM, SIGABRT"),
        ("loop_block block", "'block' is not KEY=VALUE"),
    ],
)
def test_a_bad_spec_is_one_line_naming_it_and_the_key(spec: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_spec(spec)
    message = str(caught.value)
    assert message.startswith(f"--inject {spec!r}: ")
    assert says in message
    assert "\n" not in message


def test_every_kind_names_the_finding_it_produces() -> None:
    assert {k.finding for k in KINDS.values()} <= {
        "slow_dependency", "server_errors", "event_loop_blocking", "memory_growth",
        "worker_restarted",
    }  # fmt: skip
