"""Locust scenario for benchmarks: no think time, cheap endpoints, so the server saturates."""

from __future__ import annotations

import random

from locust import FastHttpUser, task


class Saturate(FastHttpUser):
    @task(3)
    def product(self) -> None:
        self.client.get(f"/products/{random.randint(1, 100)}", name="/products/{product_id}")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")
