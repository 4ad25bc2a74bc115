"""Load for ``tests.e2e.apps.growth:leaky``: browsing users, 2 sign-ups a second (2 users
paced at 1 s), a report every 2 s (1 user)."""

from __future__ import annotations

from locust import FastHttpUser, between, constant_pacing, task


class Browser(FastHttpUser):
    wait_time = between(0.05, 0.25)

    @task
    def browse(self) -> None:
        self.client.get("/items")


class SignUp(FastHttpUser):
    fixed_count = 2
    wait_time = constant_pacing(1.0)

    @task
    def sign_up(self) -> None:
        self.client.post("/signup")


class Reporter(FastHttpUser):
    fixed_count = 1
    wait_time = constant_pacing(2.0)

    @task
    def report(self) -> None:
        self.client.get("/report")
