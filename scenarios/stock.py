"""A restock rush: many users checking stock (each check waits on the warehouse downstream)."""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, between, task

from lagscope import rundir

_seed = int(os.environ.get(rundir.ENV_SEED, "0"))
_users = 0


class StockUser(FastHttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self) -> None:
        global _users
        _users += 1
        self.rng = random.Random(_seed * 1_000_003 + _users)

    @task(9)
    def check_stock(self) -> None:
        product_id = self.rng.randint(1, 100)
        self.client.get(f"/products/{product_id}/stock", name="/products/{product_id}/stock")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")
