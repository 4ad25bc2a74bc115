"""The HTML report's text: what the findings write as `code` reads as code."""

from __future__ import annotations

from lagscope.reports.renderers.html import prose


def test_code_spans_of_a_finding_become_code_and_the_rest_is_escaped() -> None:
    remedy = "Use `await run_in_threadpool(fn, ...)` or `x < y & z`; never <script>."
    assert prose(remedy) == (
        "Use <code>await run_in_threadpool(fn, ...)</code> or <code>x &lt; y &amp; z</code>; "
        "never &lt;script&gt;."
    )
    assert prose("a lone ` stays") == "a lone ` stays"
