"""One request: GET /ping of the ticker apps (a locustfile a remote worker can be sent)."""

from __future__ import annotations

from locust import FastHttpUser, task


class Pinger(FastHttpUser):
    @task
    def ping(self) -> None:
        self.client.get("/ping", name="/ping")
