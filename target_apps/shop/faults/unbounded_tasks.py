"""Fault ``unbounded_tasks``: one fire-and-forget ``asyncio.create_task`` per request.

After each order the shop e-mails a rendered receipt.  The mail relay takes a few
connections at a time, so it delivers a fixed number of receipts per second.
``asyncio.create_task(send(receipt))`` returns at once and the order looks fast, but
when orders arrive faster than the relay delivers, the tasks pile up: each holds its
receipt in memory while it waits for a relay connection.  Nothing pushes back, so
memory grows until the OOM killer ends the worker, losing every queued receipt.

The fix is a bounded queue drained by a fixed number of worker tasks.  When the
queue is full the service says so *before* doing the work: ``503`` with
``Retry-After``, and the client retries later.  Memory stays flat.
"""

from __future__ import annotations

import asyncio
import logging
import os

from lagscope.target_apps.shop.faults.cap import CAP

from lagscope import defaults, rundir

RELAY_CONNECTIONS = 2
# Per receipt (--relay-latency): the relay delivers RELAY_CONNECTIONS / RELAY_SEND_S a second;
# at the default 50 ms that is 40, more than the default mix orders.
RELAY_SEND_S = (
    float(os.environ.get(rundir.ENV_RELAY_LATENCY_MS) or defaults.RELAY_LATENCY_MS) / 1000
)
RECEIPT_BYTES = 256 * 1024  # a rendered receipt (HTML with inline images)
QUEUE_SIZE = 64
log = logging.getLogger("shop.receipts")


class Relay:
    """The mail relay as the shop sees it: a few connections, each busy per receipt."""

    def __init__(self) -> None:
        self.connections = asyncio.Semaphore(RELAY_CONNECTIONS)
        self.sent = 0

    async def send(self, receipt: bytes) -> None:
        async with self.connections:
            await asyncio.sleep(RELAY_SEND_S)
            self.sent += 1


def render_receipt(order_id: str) -> bytes:
    head = f"<html><body>receipt {order_id}".encode()
    return head + bytes(RECEIPT_BYTES - len(head))


_tasks: set[asyncio.Task[None]] = set()  # only so the tasks are not garbage-collected


def send_receipt_broken(relay: Relay, order_id: str) -> None:
    if not CAP.allow("unbounded_tasks"):
        log.warning("receipt for %s dropped: memory cap reached", order_id)
        return
    # SEEDED FAULT: one task per order, no bound; they pile up when the relay is slower.
    task = asyncio.create_task(relay.send(render_receipt(order_id)))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class Outbox:
    """The fix: a bounded queue and RELAY_CONNECTIONS workers that drain it."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.queue: asyncio.Queue[str] = asyncio.Queue()  # bounded by reserve()
        self.reserved = 0
        self._workers: list[asyncio.Task[None]] = []

    def reserve(self) -> bool:
        """Hold a slot for one receipt before taking the order; False when the outbox is full."""
        if self.queue.qsize() + self.reserved >= QUEUE_SIZE:
            return False
        self.reserved += 1
        return True

    def release(self) -> None:
        """Give the slot back (the order failed before its receipt was queued)."""
        self.reserved -= 1

    def put(self, order_id: str) -> None:
        """Queue the receipt into the slot ``reserve()`` held."""
        self.reserved -= 1
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"outbox-{i}")
                for i in range(RELAY_CONNECTIONS)
            ]
        self.queue.put_nowait(order_id)

    async def _work(self) -> None:
        while True:
            order_id = await self.queue.get()
            try:
                await self.relay.send(render_receipt(order_id))  # rendered when sent
            finally:
                self.queue.task_done()

    def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        self._workers = []
