"""``report.html`` of a blocking run, rendered by a real browser (Debian's Chromium).

The test reads the page as Chromium built it (``--dump-dom``) and as it looks
(``--screenshot``): the verdict with the file:line is on the first screen, the
percentile table and every chart are there and not empty.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from tests.browser import CHROMIUM, chromium

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ("latency", "throughput", "loop-lag", "resources", "gauges")
LAPTOP = (1280, 800)
VERDICT_BG = (0xFD, 0xE8, 0xE4)  # .verdict.critical


class _Page(HTMLParser):
    """What the tests look for in the DOM: text by element id, svg drawing counts per chart."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.marks: dict[str, int] = {}
        self._open: list[tuple[str, str | None]] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        self._open.append((tag, ident))
        ids = [i for _, i in self._open if i]
        if tag in ("path", "use", "rect", "line", "polyline") and ids:
            self.marks[ids[0]] = self.marks.get(ids[0], 0) + 1
        if tag == "tr" and "percentiles" in ids:
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.text[ident] = self.text.get(ident, "") + data


@pytest.fixture(scope="module")
def blocking_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("browser") / "run"
    done = subprocess.run(
        [sys.executable, "-m", "lagscope", "run", "--app", "shop", "--fault", "blocking_io",
         "--duration", "6s", "--out", str(run_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return run_dir / "report.html"


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_in_chromium_shows_verdict_table_and_every_chart(
    blocking_report: Path, tmp_path: Path
) -> None:
    url = blocking_report.resolve().as_uri()
    dom = chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = _Page()
    page.feed(dom.stdout)
    assert re.search(r"blocking_io\.py:\d+", page.text["verdict"]), page.text.get("verdict")
    assert page.rows >= 3  # header, at least one endpoint, the aggregate
    for chart in CHARTS:
        assert page.marks.get(f"chart-{chart}", 0) > 20, f"chart {chart} is empty"

    shot = blocking_report.parent / "report-screenshot.png"
    size = f"--window-size={LAPTOP[0]},{LAPTOP[1]}"
    taken = chromium([size, f"--screenshot={shot}", url], tmp_path / "profile-shot")
    assert taken.returncode == 0, taken.stderr[-2000:]
    pixels = (imread(shot)[:, :, :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (LAPTOP[1], LAPTOP[0])
    # The critical verdict's band is on the first screen, and the screen is not blank.
    assert (np.abs(pixels - VERDICT_BG).sum(axis=2) <= 3).sum() > 20_000
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    keep = os.environ.get("LAGSCOPE_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
