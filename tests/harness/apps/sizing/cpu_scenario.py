"""Only the CPU-bound endpoint of ``sizing``."""

from __future__ import annotations

from locust import FastHttpUser, task


class HashUser(FastHttpUser):
    @task
    def hash_password(self) -> None:
        self.client.get("/hash", name="/hash")
