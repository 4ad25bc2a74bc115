"""The pytest plugin on a sample project (tests/harness/testing/sample), run by pytester.

The sample's app blocks its loop three ways (a synchronous sleep, a CPU-bound hash, a
blocking library call) and not three other ways (an awaited sleep, a plain `def` endpoint
in the threadpool, a fast endpoint); each of its tests runs on asyncio and on uvloop.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

# Imported here so that pytester's in-process runs find them loaded (it unloads what a run
# imports): each run would otherwise import FastAPI anew.
import fastapi  # noqa: F401
import httpx  # noqa: F401
import pytest
import uvloop  # noqa: F401

SAMPLE = Path(__file__).parent / "sample"
# A busy machine can keep the loop thread off the CPU long enough for a stall of its own,
# wherever the loop was: the runs that judge passing tests too set the threshold above
# those (a few tens of ms), well under the seeded blocks (100 ms and more).
THRESHOLD = "--lagscope-threshold=50ms"
BLOCKERS = {  # test -> (the line of app.py it must be blamed on, function, cause)
    "test_sleep": ("time.sleep(0.1)", "sleepy", "wait"),
    "test_login": ("hashlib.pbkdf2_hmac(", "login", "cpu"),
    "test_rates": ("slowlib.fetch_rates()", "rates", "wait"),
}
PASSING = {"test_pause", "test_report", "test_health"}
LOOPS = ("asyncio", "uvloop")


def app_line(text: str) -> str:
    """``app.py:N`` of the first line of the sample's app.py that holds ``text``."""
    lines = (SAMPLE / "app.py").read_text(encoding="utf-8").splitlines()
    return f"app.py:{next(n for n, line in enumerate(lines, 1) if text in line)}"


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(SAMPLE, pytester.path, dirs_exist_ok=True)
    return pytester


def outcomes_by_test(result: pytest.RunResult) -> dict[str, str]:
    """``{"test_sleep[uvloop]": "FAILED", ...}`` from the verbose lines of a run (``-v``)."""
    lines = (re.match(r"^\S+::(\S+) (PASSED|FAILED)", line) for line in result.outlines)
    return {match[1]: match[2] for match in lines if match}


@pytest.mark.parametrize("suite", ["test_asyncio.py", "test_anyio.py"])
def test_tests_that_block_the_loop_fail_naming_the_line_and_the_cause(
    sample: pytest.Pytester, suite: str
) -> None:
    result = sample.runpytest(
        suite, "--lagscope", THRESHOLD, "-v", "--lagscope-json=stalls.json", "--junitxml=junit.xml"
    )
    result.assert_outcomes(failed=6, passed=6)
    expected = {f"{test}[{loop}]" for test in BLOCKERS for loop in LOOPS}
    failed = {test for test, outcome in outcomes_by_test(result).items() if outcome == "FAILED"}
    assert failed == expected

    report = json.loads((sample.path / "stalls.json").read_text())
    assert (report["watched"], report["stalled"]) == (12, 6)
    for test in (t for t in report["tests"] if t["stalls"]):
        name = test["nodeid"].split("::")[1].partition("[")[0]
        text, function, cause = BLOCKERS[name]
        (stall,) = test["stalls"]
        assert (stall["location"], stall["function"]) == (app_line(text), function), stall
        # The stack's own cause, or the stall's when too few samples to tell it (as shown).
        assert (stall["stacks"][0]["cause"] or stall["cause"]) == cause, stall
        assert stall["duration_ms"] > 60.0, stall  # each blocks 100 ms or more (the hash ~200)
        # The stack runs from the test (pytest's and the plugin's frames cut off) inward.
        assert stall["stacks"][0]["frames"][0][:3] == [suite, stall["stacks"][0]["frames"][0][1],
                                                       name]  # fmt: skip
    library = next(t for t in report["tests"] if "test_rates" in t["nodeid"])["stalls"][0]
    assert library["stacks"][0]["frames"][-1][:1] == ["<site-packages>/slowlib.py"]

    sleep = app_line("time.sleep(0.1)")
    result.stdout.fnmatch_lines(
        [
            "lagscope: this test stalled the event loop: 1 stall over the 50 ms threshold, "
            "* ms blocked",
            f"event_loop_blocking at {sleep} (sleepy)",
            f"  The event loop was blocked waiting in a blocking call at {sleep} (sleepy).",
            "  stack of the worst stall, from the test inward:",
            f"    {suite}:* in test_sleep",
            "    <site-packages>/httpx/_client.py:* in get",
            "    … * library frames …",
            f"    {sleep} in sleepy",
            "  remedy: Await an async client instead*",
            f'  known and accepted? @pytest.mark.lagscope(allow=["{sleep}"])',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= lagscope: 6 of 12 watched async tests stalled the event loop over 50 ms =*",
            "by location, worst stall first:",
        ]
    )
    properties = {
        prop.get("name"): prop.get("value")
        for prop in ET.parse(sample.path / "junit.xml").iter("property")
    }
    assert properties.keys() == {"lagscope_stalls", "lagscope_worst_ms", "lagscope_location"}


def test_warn_mode_turns_the_failures_into_warnings_at_the_blocking_line(
    sample: pytest.Pytester,
) -> None:
    # In a process of its own: an in-process run would inherit this suite's
    # `filterwarnings = error`, which turns any warning into an error (this one too).
    result = sample.runpytest_subprocess(
        "test_asyncio.py", "--lagscope", THRESHOLD, "--lagscope-mode=warn"
    )
    result.assert_outcomes(passed=12, warnings=6)
    login = app_line("hashlib.pbkdf2_hmac(")
    result.stdout.fnmatch_lines(
        [
            f"*/{login}: LagscopeStallWarning: lagscope: the event loop was blocked computing "
            f"(CPU-bound) at {login} (login): 1 stall over the 50 ms threshold, * ms blocked",
            '    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"salt", 500_000)',
        ]
    )


def test_without_being_asked_the_plugin_watches_nothing(sample: pytest.Pytester) -> None:
    result = sample.runpytest("test_asyncio.py", "test_anyio.py", "-k", "sleep or login")
    result.assert_outcomes(passed=8)  # blocking, but nobody asked
    for line in ("*lagscope:*", "*event_loop_blocking*", "*LagscopeStallWarning*"):
        result.stdout.no_fnmatch_line(line)


def test_unless_asked_the_plugin_does_not_even_import_the_probe(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_probe_not_loaded():
            assert "lagscope.harness.testing.plugin" in sys.modules  # the entry point loaded
            assert "lagscope.harness.probe" not in sys.modules
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_the_ini_option_enables_it(sample: pytest.Pytester) -> None:
    ini = (sample.path / "pyproject.toml").read_text()
    (sample.path / "pyproject.toml").write_text(
        ini + 'lagscope = true\nlagscope_threshold = "50ms"\n'
    )
    sample.runpytest("test_asyncio.py", "-k", "sleep or pause").assert_outcomes(failed=2, passed=2)


MARKED = """\
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_factories=["asyncio"])


class TestTolerantClass:
    pytestmark = pytest.mark.lagscope(threshold="500ms")

    @pytest.mark.lagscope(allow=["test_marked.py:1"])
    async def test_threshold_of_the_class(self):
        time.sleep(0.08)


@pytest.mark.lagscope
async def test_marked():
    time.sleep(0.08)  # the marked test's block


async def test_not_marked():
    time.sleep(0.08)


@pytest.mark.lagscope(threshold="500ms")
async def test_tolerant():
    time.sleep(0.08)


@pytest.mark.lagscope(allow=["test_marked.py:{line}"])
async def test_allowed_line():
    time.sleep(0.08)  # the allowed line


@pytest.mark.lagscope(allow=["test_marked.py"])
async def test_allowed_file():
    time.sleep(0.08)


@pytest.mark.lagscope(allow=["test_marked.py:1"])
async def test_another_line_allowed():
    time.sleep(0.08)
"""


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def test_the_marker_watches_one_test_tunes_its_threshold_and_allows_a_known_stall(
    sample: pytest.Pytester,
) -> None:
    allowed = line_of(MARKED, "# the allowed line")
    (sample.path / "test_marked.py").write_text(MARKED.replace("{line}", str(allowed)))
    result = sample.runpytest("test_marked.py", "-v")  # no --lagscope: the markers ask
    result.assert_outcomes(failed=2, passed=5)
    assert outcomes_by_test(result) == {
        "test_threshold_of_the_class": "PASSED",
        "test_marked": "FAILED",
        "test_not_marked": "PASSED",
        "test_tolerant": "PASSED",
        "test_allowed_line": "PASSED",
        "test_allowed_file": "PASSED",
        "test_another_line_allowed": "FAILED",
    }
    marked = line_of(MARKED, "# the marked test's block")
    result.stdout.fnmatch_lines([f"event_loop_blocking at test_marked.py:{marked} (test_marked)"])
    result.stdout.fnmatch_lines(
        [f"  allowed: test_marked.py::test_allowed_line: 1 at test_marked.py:{allowed}"]
    )


def test_a_bad_threshold_is_a_usage_error_naming_the_option(sample: pytest.Pytester) -> None:
    result = sample.runpytest("--lagscope", "--lagscope-threshold=fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--lagscope-threshold: 'fast' is not a duration*"])


def test_a_bad_marker_is_a_usage_error_naming_the_test(sample: pytest.Pytester) -> None:
    sample.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.lagscope(treshold="50ms")
        async def test_typo():
            pass
        """
    )
    result = sample.runpytest("test_bad.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*test_bad.py::test_typo: @pytest.mark.lagscope: takes only * keywords (not treshold=)*"]
    )


OWN_FAILURE = """\
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_factories=["asyncio"])


@pytest.mark.lagscope
async def test_fails_anyway():
    time.sleep(0.08)
    assert 1 == 2


class TestInAClass:
    @pytest.mark.lagscope
    async def test_method(self):
        time.sleep(0.08)  # in a method
"""


def test_a_test_failing_on_its_own_keeps_its_failure_and_gains_a_lagscope_section(
    sample: pytest.Pytester,
) -> None:
    (sample.path / "test_more.py").write_text(OWN_FAILURE)
    result = sample.runpytest("test_more.py")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["E       assert 1 == 2", "*- lagscope -*", "lagscope: this test stalled the event loop: *"]
    )
    method = line_of(OWN_FAILURE, "# in a method")
    result.stdout.fnmatch_lines([f"event_loop_blocking at test_more.py:{method} (test_method)"])
