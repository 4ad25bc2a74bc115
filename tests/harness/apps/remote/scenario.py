"""The remote app's mix: mostly innocent reads, a share of the blocking report."""

from __future__ import annotations

from locust import FastHttpUser, between, task


class Reader(FastHttpUser):
    wait_time = between(0.02, 0.05)

    @task(4)
    def items(self) -> None:
        self.client.get("/items", name="/items")

    @task(1)
    def report(self) -> None:
        self.client.get("/report", name="/report")
