"""The default scenario for any app: every operation of its OpenAPI schema, with valid
requests, evenly unless ``--weights`` says otherwise.

The harness builds the plan before the run (lagscope.harness.run.openapi: values generated
by Schemathesis from the schema, only GET and HEAD unless ``--methods`` allows more) and
names it in ``LAGSCOPE_OPENAPI_PLAN``.  Path parameters take ids from earlier answers where
the plan links them (lagscope.harness.loadgen.openapi_requests).  Every request is named
by its path template, so ``GET /items/{item_id}`` is one endpoint in the tables.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from lagscope.harness.loadgen import openapi_requests
from locust import FastHttpUser, between, task

from lagscope import rundir
from lagscope.openapi_plan import read_plan

REQUESTS = openapi_requests.load(
    read_plan(Path(os.environ[rundir.ENV_OPENAPI_PLAN])),
    headers=dict(json.loads(os.environ.get(rundir.ENV_OPENAPI_HEADERS, "[]"))),
)
_seed = int(os.environ.get(rundir.ENV_SEED, "0"))
_users = 0


class OpenAPIUser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        global _users
        _users += 1
        self.rng = random.Random(_seed * 1_000_003 + _users)

    @task
    def send_next(self) -> None:
        request = REQUESTS.next_request(self.rng)
        response = self.client.request(
            request.method, request.url, name=request.name, data=request.body,
            headers=request.headers,
        )  # fmt: skip
        if 200 <= response.status_code < 300 and REQUESTS.wants_answer(request):
            REQUESTS.harvest(request, response.content, self.rng)
