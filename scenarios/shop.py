"""The shop's realistic mix: mostly browsing, some orders (which call payments), logins, stock.

One order in three carries a coupon, and a third of those coupons have expired: the
shop must answer those with 422, which this scenario counts as expected.  Logins come
from an old client that still sends ``username``, a field the API has since renamed
``email`` (it accepts both; the seeded fault ``schema_drift`` accepts only the new name).
"""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, between, task

from lagscope import rundir

_seed = int(os.environ.get(rundir.ENV_SEED, "0"))
_users = 0
COUPONS = ["WELCOME10", "SPRING5", "WINTER20"]  # WINTER20 has expired


def _next_rng() -> random.Random:
    global _users
    _users += 1
    return random.Random(_seed * 1_000_003 + _users)


def place_order(user: FastHttpUser, rng: random.Random, *, coupon_share: float) -> None:
    body: dict[str, object] = {"product_id": rng.randint(1, 100), "quantity": rng.randint(1, 3)}
    if rng.random() < coupon_share:
        body["coupon"] = rng.choice(COUPONS)
    with user.client.post("/orders", json=body, name="/orders", catch_response=True) as resp:
        if resp.status_code == 422 and body.get("coupon") == "WINTER20":
            resp.success()  # the expected answer to an expired coupon


class ShopUser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        self.rng = _next_rng()

    @task(8)
    def browse(self) -> None:
        self.client.get("/products?limit=20", name="/products")

    @task(6)
    def view_product(self) -> None:
        product_id = self.rng.randint(1, 100)
        self.client.get(f"/products/{product_id}", name="/products/{product_id}")

    @task(4)
    def place_order(self) -> None:
        place_order(self, self.rng, coupon_share=1 / 3)

    @task(1)
    def login(self) -> None:
        # An old client: `username`, not `email`.
        self.client.post("/login", json={"username": "alice", "password": "wonderland"})

    @task(1)
    def check_stock(self) -> None:
        product_id = self.rng.randint(1, 100)
        self.client.get(f"/products/{product_id}/stock", name="/products/{product_id}/stock")

    @task(2)
    def health(self) -> None:
        self.client.get("/health", name="/health")
