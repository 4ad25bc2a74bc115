"""Per-endpoint latency: how requests are named."""

from __future__ import annotations

import pandas as pd
from lagscope.reports.latency import endpoint_key


def test_an_endpoint_is_its_method_and_name_once_even_when_the_name_holds_the_method() -> None:
    # Locust's own `name=` is free text: many locustfiles write the method into it.
    requests = pd.DataFrame({
        "method": ["GET", "POST", "GET", "GET"],
        "name": ["/products", "POST /auth/signup", "GET", "GETTER /x"],
    })  # fmt: skip
    assert endpoint_key(requests).tolist() == [
        "GET /products", "POST /auth/signup", "GET GET", "GET GETTER /x",
    ]  # fmt: skip
