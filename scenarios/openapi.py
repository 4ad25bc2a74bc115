"""The default scenario for any app: every GET operation that needs no parameters, evenly.

The harness reads the app's ``/openapi.json`` before the run and passes the paths in
``LAGSCOPE_OPENAPI_PATHS`` (a JSON list); each user cycles through them.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

from lagscope import rundir

PATHS: list[str] = json.loads(os.environ.get(rundir.ENV_OPENAPI_PATHS, "[]"))
_seed = int(os.environ.get(rundir.ENV_SEED, "0"))
_users = 0


class OpenAPIUser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        global _users
        _users += 1
        rng = random.Random(_seed * 1_000_003 + _users)
        self.order = list(PATHS)
        rng.shuffle(self.order)
        self.next = 0

    @task
    def get_next(self) -> None:
        if not self.order:
            return
        path = self.order[self.next % len(self.order)]
        self.next += 1
        self.client.get(path, name=path)
