"""Only the endpoint of ``sizing`` that waits on the shared upstream."""

from __future__ import annotations

from locust import FastHttpUser, task


class PayUser(FastHttpUser):
    @task
    def pay(self) -> None:
        self.client.get("/pay", name="/pay")
