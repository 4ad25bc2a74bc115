"""The columns of ``requests.parquet`` (kept apart from the Locust code, which must not be
imported in the harness: importing locust monkey-patches the process with gevent)."""

from __future__ import annotations

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("t", pa.float64()),  # request start, unix seconds
        # exact response time in milliseconds; in rate mode counted from intended_t (corrected)
        ("latency_ms", pa.float64()),
        ("method", pa.string()),
        ("name", pa.string()),  # the scenario's name for the request (route template)
        ("status", pa.int32()),  # HTTP status; 0 when no response arrived
        ("ok", pa.bool_()),  # Locust counted it a success
        ("bytes", pa.int64()),
        ("error", pa.string()),  # exception text when not ok
        ("pid", pa.int32()),  # the load-generator process that sent it
        # rate mode only (null in closed mode): see lagscope.harness.loadgen.open_model
        ("intended_t", pa.float64()),  # the slot the plan gave the request, unix seconds
        ("uncorrected_ms", pa.float64()),  # response time counted from the actual send (t)
        ("send_lag_ms", pa.float64()),  # how late the send was: t - intended_t
        # --load-workers only (null otherwise): the remote load worker that sent it
        ("load_worker", pa.string()),
    ]
)
