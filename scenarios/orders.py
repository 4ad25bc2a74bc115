"""A sale: users do little but order (stresses what happens after each order, e.g. receipts)."""

from __future__ import annotations

import os
import random

from lagscope.scenarios.shop import place_order
from locust import FastHttpUser, between, task

from lagscope import rundir

_seed = int(os.environ.get(rundir.ENV_SEED, "0"))
_users = 0


class BuyerUser(FastHttpUser):
    wait_time = between(0.01, 0.05)

    def on_start(self) -> None:
        global _users
        _users += 1
        self.rng = random.Random(_seed * 1_000_003 + _users)

    @task(9)
    def order(self) -> None:
        place_order(self, self.rng, coupon_share=0.0)

    @task(1)
    def browse(self) -> None:
        self.client.get("/products?limit=20", name="/products")
