"""The percentiles lagscope reports are numpy's, exactly, on the raw data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from lagscope.reports.latency import PERCENTILES, latency_table
from lagscope.reports.series import request_series

latencies = st.lists(
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=300,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(values=latencies, names=st.data())
def test_percentiles_equal_numpy_on_the_raw_rows(values: list[float], names: st.DataObject) -> None:
    endpoint = names.draw(st.lists(st.sampled_from(["/a", "/b"]), min_size=len(values),
                                   max_size=len(values)))  # fmt: skip
    requests = pd.DataFrame(
        {"t": np.arange(len(values), dtype=float), "latency_ms": values, "method": "GET",
         "name": endpoint, "ok": True}
    )  # fmt: skip
    table = latency_table(requests, seconds=1.0)
    expected = np.percentile(np.array(values), list(PERCENTILES.values()))
    got = [table["aggregate"][key] for key in PERCENTILES]
    assert got == expected.tolist()
    assert table["aggregate"]["max_ms"] == max(values)
    for name in set(endpoint):
        mine = [v for v, e in zip(values, endpoint, strict=True) if e == name]
        assert table["endpoints"][f"GET {name}"]["p99_ms"] == float(np.percentile(mine, 99))


@settings(max_examples=100, deadline=None)
@given(values=latencies)
def test_per_second_percentiles_equal_numpy(values: list[float]) -> None:
    t = np.linspace(0.0, 2.999, len(values))
    out = request_series(pd.DataFrame({"t": t, "latency_ms": values, "ok": True}), t0=0.0)
    for row in out.itertuples():
        mine = np.array(values)[np.floor(t) == row.second]
        assert row.p99_ms == np.percentile(mine, 99)
        assert row.p50_ms == np.percentile(mine, 50)
