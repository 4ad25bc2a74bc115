"""The plugin at work, registered only when enabled: each watched async test's coroutine
runs under a ``LoopWatch``; a test whose loop stalled fails (or warns); the session ends
with a summary (and the JSON file, if asked).

The test's coroutine function is swapped for a watching one for the time of its call, so
whichever plugin runs it on its loop (pytest-asyncio, anyio's) runs the watch too.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import warnings
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

import pytest
from lagscope.harness.probe.frames import FrameFilter
from lagscope.harness.testing import LagscopeStallWarning
from lagscope.harness.testing.options import (
    MARKER,
    ItemOptions,
    Settings,
    options_for,
)
from lagscope.harness.testing.summary import TestResult, as_json, summary_lines, title
from lagscope.harness.testing.verdict import (
    Stall,
    by_location,
    failure_text,
    judge,
    warning_text,
)
from lagscope.harness.testing.watch import LoopWatch

from lagscope import defaults

OPTIONS = pytest.StashKey[ItemOptions]()
STALLS = pytest.StashKey[list[Stall]]()
TestFunction = Callable[..., Coroutine[Any, Any, Any]]


class Watcher:
    """The per-test hooks and the session's results."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.frame_filter = FrameFilter.for_root(config.rootpath)
        self.results: list[TestResult] = []
        self.watched = 0

    def prepare(self, items: list[pytest.Item]) -> None:
        """Give each test to watch its options (a bad marker stops the session here)."""
        for item in items:
            if self.settings.enabled or item.get_closest_marker(MARKER) is not None:
                item.stash[OPTIONS] = options_for(item, self.settings)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        options = item.stash.get(OPTIONS, None)
        test = getattr(item, "obj", None)
        if options is None or not inspect.iscoroutinefunction(test):
            return (yield)
        item.obj = self._watching(item, test, options)  # type: ignore[attr-defined]
        try:
            return (yield)
        finally:
            item.obj = test  # type: ignore[attr-defined]

    def _watching(
        self, item: pytest.Item, test: TestFunction, options: ItemOptions
    ) -> TestFunction:
        @functools.wraps(test)
        async def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # not on asyncio (anyio's trio backend): nothing to watch
                return await test(*args, **kwargs)
            self.watched += 1
            watch = LoopWatch(
                threshold_ms=options.threshold_ms,
                interval_ms=defaults.PROBE_INTERVAL_MS,
                frame_filter=self.frame_filter,
            )
            watch.start()
            try:
                result = await test(*args, **kwargs)
            except Exception:
                item.stash[STALLS] = self._from_the_test(await watch.close())
                raise
            except BaseException:  # cancelled or interrupted: no more awaiting
                item.stash[STALLS] = self._from_the_test(watch.stop())
                raise
            item.stash[STALLS] = self._from_the_test(await watch.close())
            if options.mode == "warn":
                self._warn(item, options)
            return result

        return watched

    def _from_the_test(self, stalls: list[Stall]) -> list[Stall]:
        """The stalls with each stack cut below ``watched``: pytest's frames, the plugin's
        and a conftest's hook wrappers are above every test and never the blocker."""
        wrapper = self.frame_filter.relative(__file__)
        for stall in stalls:
            for stack in stall.get("stacks") or []:
                frames = stack["frames"]
                tops = [i for i, f in enumerate(frames) if f[0] == wrapper and f[2] == "watched"]
                if tops:
                    stack["frames"] = frames[tops[-1] + 1 :]
        return stalls

    def _warn(self, item: pytest.Item, options: ItemOptions) -> None:
        """One warning per blamed location, pointing at its line (the test's, for a stall
        not in the user's code) so pytest's summary shows the line that blocked."""
        verdict = judge(item.stash[STALLS], threshold_ms=options.threshold_ms, allow=options.allow)
        for group in by_location(verdict.stalls):
            path, line = str(item.path), (item.location[1] or 0) + 1
            where = group[0].get("location")
            if group[0].get("in_user_code") and where:
                relative, _, number = where.rpartition(":")
                path, line = os.path.join(self.config.rootpath, relative), int(number)
            warnings.warn_explicit(
                warning_text(group, threshold_ms=options.threshold_ms),
                LagscopeStallWarning,
                path,
                line,
            )

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        stalls = item.stash.get(STALLS, None)
        if call.when != "call" or stalls is None:
            return report
        options = item.stash[OPTIONS]
        verdict = judge(stalls, threshold_ms=options.threshold_ms, allow=options.allow)
        if verdict.stalls:
            worst = max(verdict.stalls, key=lambda s: float(s["duration_ms"]))
            item.user_properties += [  # JUnit XML properties (of the teardown report)
                ("lagscope_stalls", len(verdict.stalls)),
                ("lagscope_worst_ms", worst["duration_ms"]),
                ("lagscope_location", worst["location"]),
            ]
            if options.mode == "fail" and report.passed and not hasattr(report, "wasxfail"):
                report.outcome = "failed"
                report.longrepr = failure_text(verdict)
            elif report.failed:
                report.sections.append(("lagscope", failure_text(verdict)))
        if verdict.any():
            self.results.append(TestResult(item.nodeid, report.outcome, verdict))
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        watched, threshold_ms = self.watched, self.settings.threshold_ms
        terminalreporter.write_sep(
            "=", title(self.results, watched=watched, threshold_ms=threshold_ms)
        )
        for line in summary_lines(self.results):
            terminalreporter.write_line(line)
        if self.settings.json_path:
            path = Path(self.config.invocation_params.dir, self.settings.json_path)
            doc = as_json(
                self.results, watched=watched, threshold_ms=threshold_ms, mode=self.settings.mode
            )
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            terminalreporter.write_line(f"lagscope: stalls written to {path}")
