"""client_errors on hand-made requests and 422 bodies: drift is found, ordinary 4xx are not."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from lagscope.reports.client_errors import client_error_figures, validation_errors
from lagscope.reports.summary import summarize

from tests.reports import frames

MISSING = {"type": "missing", "loc": ["body", "email"], "msg": "Field required",
           "input": {"username": "a"}}  # fmt: skip
MISSING_EMAIL = json.dumps({"detail": [MISSING]})


def kinds(summary: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in summary["diagnosis"]]


def answered(status: int, endpoint: str, *, share: float = 1.0, ok: bool = False) -> pd.DataFrame:
    requests = frames.requests()
    method, name = endpoint.split(" ")
    rows = requests.index[(requests["method"] == method) & (requests["name"] == name)]
    hit = rows[: int(len(rows) * share)]
    requests.loc[hit, "status"] = status
    requests.loc[hit, "ok"] = ok
    return requests


def bodies(endpoint: str, status: int, body: str, n: int = 20) -> pd.DataFrame:
    method, name = endpoint.split(" ")
    return pd.DataFrame({"t": [frames.T0 + 0.4 * i for i in range(n)], "method": method,
                         "name": name, "status": status, "body": body, "pid": 1})  # fmt: skip


def test_validation_errors_read_fastapi_422_bodies_even_cut_short() -> None:
    assert validation_errors(MISSING_EMAIL) == [("body.email", "Field required")]
    assert validation_errors(MISSING_EMAIL[:90]) == [("body.email", "Field required")]
    assert validation_errors("<html>nope</html>") == []
    assert validation_errors('{"detail": "Not Found"}') == []


def test_a_renamed_field_is_client_errors_quoting_the_failing_loc() -> None:
    data = frames.run_data(
        request_frame=answered(422, "POST /orders"),
        error_body_frame=bodies("POST /orders", 422, MISSING_EMAIL),
    )
    summary = summarize(data)
    assert kinds(summary) == ["client_errors"]
    (finding,) = summary["diagnosis"]
    assert finding["severity"] == "critical"
    assert finding["location"] == "POST /orders"
    assert finding["summary"] == (
        "POST /orders answered 100% of its requests with a client error (500×422): the request "
        "fails validation at `body.email` (Field required)."
    )
    assert "in 20 of the 20 sampled 422 bodies: loc `body.email`" in finding["evidence"]
    assert "AliasChoices" in finding["remedy"]


def test_404s_of_random_ids_on_a_path_with_a_parameter_are_not_client_errors() -> None:
    data = frames.run_data(request_frame=answered(404, "GET /products/{id}", share=0.6))
    summary = summarize(data)
    assert kinds(summary) == []
    assert summary["client_errors"]["left_out"]["missing_resource"] == 300


def test_a_404_of_a_path_without_parameters_is_counted_the_endpoint_is_gone() -> None:
    data = frames.run_data(request_frame=answered(404, "GET /products", share=0.5))
    assert kinds(summarize(data)) == ["client_errors"]


def test_answers_the_scenario_expected_and_429s_are_left_out() -> None:
    expected = client_error_figures(
        answered(422, "POST /orders", ok=True), bodies("POST /orders", 422, MISSING_EMAIL)
    )
    assert expected["client_errors"] == 0
    assert expected["left_out"]["expected"] == 500
    limited = client_error_figures(answered(429, "POST /orders"), bodies("POST /orders", 429, ""))
    assert limited["left_out"]["rate_limited"] == 500
    assert limited["endpoints"] == {}


def test_a_few_client_errors_are_no_finding() -> None:
    data = frames.run_data(request_frame=answered(401, "POST /orders", share=0.05))
    summary = summarize(data)
    assert kinds(summary) == []
    assert summary["client_errors"]["endpoints"]["POST /orders"]["statuses"] == {"401": 25}


def test_refused_credentials_are_a_warning_that_says_how_to_give_them() -> None:
    # An app nobody here wrote: its schema marks the endpoint with `security`, and the
    # load sent no token.  The app is not at fault, and versioning its API is no remedy.
    data = frames.run_data(request_frame=answered(401, "POST /orders", share=0.9))
    (finding,) = summarize(data)["diagnosis"]
    assert finding["kind"] == "client_errors"
    assert finding["severity"] == "warning"
    assert finding["summary"] == (
        "POST /orders answered 90% of its requests with a client error (450×401): it asks "
        "for credentials."
    )
    assert "--header 'Authorization: Bearer TOKEN'" in finding["remedy"]
    assert "AliasChoices" not in finding["remedy"]


def test_conflicts_are_a_warning_about_the_loads_repeated_values() -> None:
    data = frames.run_data(request_frame=answered(409, "POST /orders", share=0.6))
    (finding,) = summarize(data)["diagnosis"]
    assert finding["severity"] == "warning"
    assert finding["summary"].endswith("(300×409): a conflict with its data.")
    assert "unique" in finding["remedy"]


def test_validation_errors_outweighing_refusals_keep_the_drift_remedy() -> None:
    requests = answered(422, "POST /orders", share=0.6)
    rows = requests.index[(requests["method"] == "POST") & (requests["name"] == "/orders")]
    requests.loc[rows[300:400], ["status", "ok"]] = [401, False]  # 300×422, 100×401
    data = frames.run_data(
        request_frame=requests, error_body_frame=bodies("POST /orders", 422, MISSING_EMAIL)
    )
    (finding,) = summarize(data)["diagnosis"]
    assert finding["severity"] == "critical"
    assert "AliasChoices" in finding["remedy"]
