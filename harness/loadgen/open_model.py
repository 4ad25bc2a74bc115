"""Runs inside Locust: open-model (arrival-rate) load over any scenario's User classes.

Locust's users are a closed model: each waits for its response before sending
again, so a frozen server stops receiving requests and its latency looks better
than real clients (who keep arriving) see it — coordinated omission. Here one
dispatcher per load-generator process walks a plan of intended send times
(lagscope.arrivals) and hands each arrival to a free user of a pool, which runs one
task of the scenario's user (picked by the scenario's weights). An arrival that
finds every user busy is sent as soon as one frees up, still measured from its slot;
the pool grows as needed up to ``max_users`` and says so when that cap binds.

Each arrival's greenlet carries its slot (lagscope.harness.loadgen.send_slots) for the recorder.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.monkey
import gevent.pool
import gevent.socket
from lagscope.harness.loadgen import send_slots
from lagscope.harness.loadgen.recorder import log_event
from locust import User, constant, task
from locust.exception import InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from lagscope import arrivals

logger = logging.getLogger("lagscope.open_model")
_native_sleep = gevent.monkey.get_original("time", "sleep")  # Locust patches time.sleep

LEAD_S = 0.25  # the plan starts this long after the dispatcher, once the pool is warm
START_WAIT_S = 10.0  # how long a worker waits for the master's shared start
DRAIN_S = 2.0  # after the last slot, in-flight arrivals get this long to finish
PREWARM_USERS = 10  # users created (and started) before the first slot


# --- the pool of users ---------------------------------------------------------------------


class UserPool:
    """Idle users per scenario class; grows on demand up to ``max_users`` in total."""

    def __init__(self, *, max_users: int, on_cap: Callable[[], None]) -> None:
        self.max_users = max_users
        self.size = 0
        self.waits = 0  # arrivals that found the pool exhausted
        self._on_cap = on_cap
        self._idle: dict[type[User], list[User]] = {}
        self._counts: dict[type[User], int] = {}
        self._released = gevent.event.Event()

    def acquire(self, cls: type[User]) -> User | None:
        """An idle user of ``cls``, or None: the caller creates one (counted here).

        Blocks while the pool is at its cap and no user of ``cls`` is idle.
        """
        waited = False
        while True:
            idle = self._idle.get(cls)
            if idle:
                return idle.pop()
            # A class with no user at all may exceed the cap by one, or it would never run.
            if self.size < self.max_users or not self._counts.get(cls):
                self.size += 1
                self._counts[cls] = self._counts.get(cls, 0) + 1
                return None
            if not waited:
                waited = True
                self.waits += 1
                if self.waits == 1:
                    self._on_cap()  # once: the cap binds from here on
            self._released.clear()
            self._released.wait()

    def release(self, user: User) -> None:
        self._idle.setdefault(type(user), []).append(user)
        self._released.set()

    def forget(self, user_class: type[User]) -> None:
        """A user that could not be created or started: its place is free again."""
        self.size -= 1
        self._counts[user_class] -= 1
        self._released.set()

    def idle_users(self) -> list[User]:
        return [user for users in self._idle.values() for user in users]


# --- one arrival ---------------------------------------------------------------------------


def _one_iteration(user: User, rng: random.Random) -> None:
    """Run one task of ``user``, chosen by the class's task weights (Locust's ``tasks`` list
    repeats each task by its weight). A nested TaskSet runs one of its own tasks."""
    chosen: Any = rng.choice(user.tasks)
    if isinstance(chosen, type):  # a TaskSet class
        taskset = chosen(user)
        taskset.execute_task(taskset.get_next_task())
    else:
        chosen(user)


def _arrival(
    environment: Any, pool: UserPool, cls: type[User], user: User | None,
    slot: tuple[float, float], rng: random.Random,
) -> None:  # fmt: skip
    send_slots.begin(*slot)
    try:
        if user is None:
            user = cls(environment)
            user.on_start()
        _one_iteration(user, rng)
    except (StopUser, InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately):
        pass
    except Exception as exc:
        logger.exception("lagscope: an arrival's task failed")
        if user is not None:
            environment.events.user_error.fire(
                user_instance=user, exception=exc, tb=exc.__traceback__
            )
    finally:
        send_slots.end()
        if user is None:
            pool.forget(cls)
        else:
            pool.release(user)


# --- one start for every process ----------------------------------------------------------

_START_MESSAGE = "lagscope_plan_start"  # master → workers: {"start": unix seconds}
_DONE_MESSAGE = "lagscope_plan_done"  # worker → master: its share is sent and drained
_shared_start = gevent.event.AsyncResult()


def coordinate(
    options: arrivals.PlanOptions,
    *,
    offsets: Callable[[], dict[str, float]] | None = None,
    lost: Callable[[], int] | None = None,
    clocks_ready: tuple[Callable[[], bool], float] | None = None,
) -> Callable[..., None]:
    """Locust ``init`` listener. With several processes the master tells every worker when
    the plan starts (once all have spawned their dispatcher), so that their shares
    interleave as planned, and ends the test when every share is done; a single
    process ends itself. Locust's --run-time stays as the backstop.

    Remote workers (``--load-workers``): ``offsets`` gives each worker's clock minus the
    master's (client id → seconds), so each is told the start on its own clock; ``lost``
    counts workers gone mid-run, whose shares will never report done; ``clocks_ready``
    (test, at most seconds): the start waits until the offsets are good enough."""

    def on_init(environment: Any, **_: Any) -> None:
        runner = environment.runner
        if isinstance(runner, WorkerRunner):

            def on_start(environment: Any, msg: Any, **_: Any) -> None:
                _shared_start.set(float(msg.data["start"]))

            runner.register_message(_START_MESSAGE, on_start)
        elif isinstance(runner, MasterRunner):
            done: set[int] = set()

            def on_spawned(**_: Any) -> None:
                if lost is not None:
                    gevent.spawn(watch_lost)
                gevent.spawn(send_start)

            def send_start() -> None:
                if clocks_ready is not None:
                    ready, wait_s = clocks_ready
                    until = time.monotonic() + wait_s
                    while not ready() and time.monotonic() < until:
                        gevent.sleep(0.05)
                start = time.time() + LEAD_S
                if offsets is None:
                    runner.send_message(_START_MESSAGE, {"start": start})
                    return
                skews = offsets()
                for client_id in list(runner.clients):
                    data = {"start": start + skews.get(client_id, 0.0)}
                    runner.send_message(_START_MESSAGE, data, client_id=client_id)

            quitting: list[bool] = []

            def check_done() -> None:
                if quitting:
                    return
                if len(done) >= options.procs - (lost() if lost is not None else 0):
                    quitting.append(True)
                    gevent.spawn(runner.quit)

            def watch_lost() -> None:  # a lost worker's share never reports done
                while True:
                    gevent.sleep(0.5)
                    check_done()

            def on_done(environment: Any, msg: Any, **_: Any) -> None:
                done.add(int(msg.data["index"]))
                check_done()

            environment.events.spawning_complete.add_listener(on_spawned)
            runner.register_message(_DONE_MESSAGE, on_done)

    return on_init


def _share_done(environment: Any, *, index: int) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(_DONE_MESSAGE, {"index": index})
    elif isinstance(runner, LocalRunner):
        gevent.spawn(runner.quit)  # not from this greenlet: quitting kills the users


def _plan_start(options: arrivals.PlanOptions) -> tuple[float, float]:
    """The plan's start as (wall, monotonic) seconds: shared by all processes, or our own."""
    wall = time.time() + LEAD_S
    if options.procs > 1:
        try:
            wall = _shared_start.get(timeout=START_WAIT_S)
        except gevent.Timeout:
            logger.warning("lagscope: no plan start from the master; starting this share alone")
    return wall, time.monotonic() + (wall - time.time())


# --- the dispatcher ------------------------------------------------------------------------


def _weighted_picker(classes: list[type[User]], rng: random.Random) -> Callable[[], type[User]]:
    weights = [max(0.0, float(getattr(c, "weight", 1))) for c in classes]
    if len(classes) == 1 or not any(weights):
        return lambda: classes[0]
    return lambda: rng.choices(classes, weights=weights)[0]


def run_plan(
    environment: Any,
    classes: list[type[User]],
    options: arrivals.PlanOptions,
    *,
    index: int,
    run_dir: Path,
) -> None:
    """Send this process's share of the plan, on time, then wait for the stragglers."""
    times = arrivals.share(
        arrivals.plan(rate=options.rate, duration_s=options.duration_s,
                      arrivals=options.arrivals, seed=options.seed),
        index=index, procs=options.procs,
    )  # fmt: skip
    rng = random.Random(options.seed * 1_000_003 + index)
    pick = _weighted_picker(classes, rng)
    for cls in classes:
        if getattr(cls, "host", None) is None:
            cls.host = environment.host

    def on_cap() -> None:
        logger.warning("lagscope: all %d users are busy; arrivals are sent late "
                       "(raise --max-users)", options.max_users)  # fmt: skip
        log_event(run_dir, "user_cap_reached", max_users=options.max_users, pid=os.getpid())

    pool = UserPool(max_users=options.max_users, on_cap=on_cap)
    _prewarm(environment, pool, pick, count=min(PREWARM_USERS, options.max_users))
    _resolve_hosts(classes)
    # What start-up allocated (Locust, the users, pandas…) is kept for the whole run: a full
    # collection that walks it would hold every greenlet for tens of ms at a random slot.
    gc.collect()
    gc.freeze()
    wall0, mono0 = _plan_start(options)
    log_event(
        run_dir, "plan_start", start=wall0, duration_s=options.duration_s, slots=len(times),
        rate=str(options.rate), arrivals=options.arrivals, index=index, procs=options.procs,
        max_users=options.max_users, pid=os.getpid(),
    )  # fmt: skip
    unfinished = _send(
        environment, pool, pick, rng, [(wall0 + t, mono0 + t) for t in times.tolist()]
    )
    _record_unfinished(environment, unfinished)
    _stop_users(pool)
    log_event(
        run_dir, "plan_end", slots=len(times), unfinished=len(unfinished), pool_size=pool.size,
        waits_for_user=pool.waits, cap_reached=pool.waits > 0, index=index, pid=os.getpid(),
    )  # fmt: skip


def _send(
    environment: Any,
    pool: UserPool,
    pick: Callable[[], type[User]],
    rng: random.Random,
    slots: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Hand each slot ``(wall, monotonic)`` to a user at its time; return the slots of the
    arrivals still running ``DRAIN_S`` after the last one (they are killed)."""
    group = gevent.pool.Group()
    pending: dict[gevent.Greenlet, tuple[float, float]] = {}  # arrivals in flight → slots
    for slot in slots:
        _sleep_until(slot[1])
        cls = pick()
        user = pool.acquire(cls)
        arrival = group.spawn(_arrival, environment, pool, cls, user, slot, rng)
        pending[arrival] = slot
        arrival.link(lambda done: pending.pop(done, None))
    group.join(timeout=DRAIN_S)
    running = dict(pending)
    group.kill(block=True, timeout=1.0)
    # Killed, or still not done: no answer.  One that finished while the others were being
    # killed recorded its request itself; counting it here too would count it twice.
    unfinished = sorted(
        slot for arrival, slot in running.items()
        if not arrival.ready() or isinstance(arrival.value, gevent.GreenletExit)
    )  # fmt: skip
    if unfinished:
        logger.warning("lagscope: %d arrivals had no response %gs after the plan",
                       len(unfinished), DRAIN_S)  # fmt: skip
    return unfinished


UNFINISHED_NAME = "(no response by the end of the plan)"


def _record_unfinished(environment: Any, slots: list[tuple[float, float]]) -> None:
    """Arrivals still waiting when the plan's drain ran out become failed requests,
    timed from their slot to now (on the monotonic clock), so they count in the figures
    instead of vanishing."""
    now = time.monotonic()
    skew = time.time() - now  # the wall clock as it stands now
    for wall, due in slots:
        send_slots.begin(wall, due)
        try:
            environment.events.request.fire(
                request_type="UNFINISHED", name=UNFINISHED_NAME,
                response_time=(now - due) * 1000, response_length=0,
                exception=TimeoutError(f"no response {DRAIN_S:g} s after the plan's last slot"),
                response=None, context={}, start_time=due + skew,
            )  # fmt: skip
        finally:
            send_slots.end()


def _sleep_until(due: float) -> None:
    """Return at monotonic time ``due``, ~0.1 ms late at the median (greenlets run meanwhile).

    gevent's hub waits in epoll, whose timeout is whole milliseconds rounded up, so
    ``gevent.sleep`` wakes ~0.6 ms late on average. A native thread's sleep is precise
    to tens of µs and wakes the hub when it returns; measured here: 0.1–0.2 ms median at
    200–1000 arrivals/s for a few % of a core (yielding in a loop instead is exact but
    burns up to a whole core, which would distort the generator's CPU figures).
    """
    delay = due - time.monotonic()
    if delay > 0:
        gevent.get_hub().threadpool.apply(_native_sleep, (delay,))


def _prewarm(
    environment: Any, pool: UserPool, pick: Callable[[], type[User]], *, count: int
) -> None:
    """Create and start ``count`` users before the first slot (``on_start`` may log in)."""
    started = []
    for _ in range(count):
        cls = pick()
        if pool.acquire(cls) is not None:
            continue
        user = cls(environment)
        try:
            user.on_start()
        except Exception:
            logger.exception("lagscope: on_start of a user failed")
            pool.forget(cls)
            continue
        started.append(user)
    for user in started:
        pool.release(user)


def _resolve_hosts(classes: list[type[User]]) -> None:
    """Resolve each user class's host once before the first slot.

    A user's first request resolves its host through gevent's resolver, which is imported
    and given its threads on first use: ~10 ms with the GIL held, and more on a busy
    machine, which made the first slots of every run 15–50 ms late.
    """
    for host in {getattr(cls, "host", None) for cls in classes}:
        parts = urllib.parse.urlsplit(host or "")
        if parts.hostname is None:
            continue
        with contextlib.suppress(OSError):  # the first request will say so, as it would have
            gevent.socket.getaddrinfo(
                parts.hostname, parts.port or 80, 0, gevent.socket.SOCK_STREAM
            )


def _stop_users(pool: UserPool) -> None:
    stopping = gevent.pool.Group()
    for user in pool.idle_users():
        stopping.spawn(user.on_stop)
    stopping.join(timeout=1.0)
    stopping.kill(block=False)


def dispatcher_class(
    classes: list[type[User]], options: arrivals.PlanOptions, *, run_dir: Path
) -> type[User]:
    """The one Locust User each load-generator process runs in rate mode: it sends the plan."""

    class LagscopeArrivals(User):
        wait_time = constant(0)

        @task
        def send_the_plan(self) -> None:
            index = int(getattr(self.environment.runner, "worker_index", 0) or 0)
            run_plan(self.environment, classes, options, index=index, run_dir=run_dir)
            _share_done(self.environment, index=index)
            raise StopUser()

    return LagscopeArrivals
