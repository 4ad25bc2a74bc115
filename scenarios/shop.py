"""The shop's realistic mix: mostly browsing, some orders (which call the payments API)."""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, between, task

_seed = int(os.environ.get("LAGSCOPE_SEED", "0"))
_users = 0


class ShopUser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        global _users
        _users += 1
        self.rng = random.Random(_seed * 1_000_003 + _users)

    @task(4)
    def browse(self) -> None:
        self.client.get("/products?limit=20", name="/products")

    @task(3)
    def view_product(self) -> None:
        product_id = self.rng.randint(1, 100)
        self.client.get(f"/products/{product_id}", name="/products/{product_id}")

    @task(2)
    def place_order(self) -> None:
        body = {"product_id": self.rng.randint(1, 100), "quantity": self.rng.randint(1, 3)}
        self.client.post("/orders", json=body, name="/orders")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")
