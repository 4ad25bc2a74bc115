"""Load for ``tests.e2e.apps.growth:steady``: item pages at random among 100 (the cache
warms, then plateaus) and one import 5 s into the run (a burst of tasks that drains)."""

from __future__ import annotations

import random

from locust import FastHttpUser, between, constant, task

IMPORT_AFTER_S = 5.0


class Browser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    @task
    def browse(self) -> None:
        self.client.get(f"/items/{random.randrange(100)}", name="/items/{item_id}")


class Importer(FastHttpUser):
    fixed_count = 1
    wait_time = constant(IMPORT_AFTER_S)
    rounds = 0

    @task
    def run_import(self) -> None:
        self.rounds += 1
        if self.rounds == 2:  # the first round only waited IMPORT_AFTER_S
            self.client.post("/import")
