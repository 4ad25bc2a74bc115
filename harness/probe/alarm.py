"""The watchdog's alarm: a one-shot Linux timerfd that every heartbeat pushes back.

Without it the watchdog wakes at each moment the latest beat could cross the stall
threshold (~40 times a second at a 10 ms beat) and takes the GIL from the loop each time,
for nothing while the beats are on time.  With it the watchdog sleeps in ``poll()``
without the GIL and wakes only when a beat is overdue by the threshold, when it is
stopped, or when its lag samples are due to be flushed (once a second).  What that saves
end to end is below what a 2-core machine resolves (docs/performance.md).

The loop thread re-arms the timer at its beats through ``ctypes.PyDLL``: one system call
that never blocks, made without releasing the GIL (``os.timerfd_settime``, Python 3.13+,
releases it, which hands it to any thread waiting for it and makes the loop wait to get
it back).  A beat skips the call while the expiry is still further off than the next
beat plus ``keep_s``: at a 10 ms beat and a 20 ms threshold that is every other beat.
Skipping can only make the alarm fire early (the watchdog then finds no stall and sleeps
again), never late, so a stall is still seen as soon as it crosses the threshold.
Where there is no timerfd, ``Alarm.open`` returns None and the watchdog keeps waking on
its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import sys
import time
from collections.abc import Callable

CLOCK_MONOTONIC = 1  # time.perf_counter's clock on Linux
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _spec(delay_s: float) -> _Itimerspec:
    """A one-shot expiry ``delay_s`` from now (at least 1 ns: zero would disarm it)."""
    ns = max(1, round(delay_s * 1e9))
    return _Itimerspec(it_value=_Timespec(ns // 1_000_000_000, ns % 1_000_000_000))


class Alarm:
    """A timer ``every_s`` after the last ``rearm()``; ``wait()`` sleeps until it fires.

    ``rearm(now)`` makes no system call while the expiry is more than ``keep_s`` after
    ``now`` (the caller's next beat is due before it)."""

    def __init__(
        self, settime: Callable[..., int], timer_fd: int, every_s: float, keep_s: float = 0.0
    ) -> None:
        self._settime = settime
        self._timer = timer_fd
        self.every_s = every_s
        self.keep_s = keep_s
        self._every_spec = _spec(every_s)
        self._every = ctypes.byref(self._every_spec)  # built once: a beat only makes the call
        # When the timer fires, on the perf counter (CLOCK_MONOTONIC), as far as this side
        # knows (a call is made a little after the ``now`` it counts from, so the kernel's
        # expiry is that little later).  Whichever thread set it last wrote it.
        self.expiry = 0.0
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._poll = select.poll()
        self._poll.register(self._timer, select.POLLIN)
        self._poll.register(self._wake_fd, select.POLLIN)

    @classmethod
    def open(cls, every_s: float, *, keep_s: float = 0.0) -> Alarm | None:
        """An alarm that fires ``every_s`` after each ``rearm()``, or None without timerfd;
        ``keep_s``: a re-arm is skipped while the expiry is further off than that."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.PyDLL(None, use_errno=True)  # the process's libc, GIL held in calls
            create, settime = libc.timerfd_create, libc.timerfd_settime
        except (OSError, AttributeError):
            return None
        create.argtypes, create.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        settime.restype = ctypes.c_int
        fd = create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if fd < 0:
            return None
        try:
            return cls(settime, fd, every_s, keep_s)
        except OSError:  # no descriptor left for the wake-up: wake on a timer instead
            os.close(fd)
            return None

    def rearm(self, now: float | None = None) -> None:
        """Push the expiry back to ``every_s`` from ``now`` (perf-counter seconds; the
        heartbeat, at each beat), unless it is still more than ``keep_s`` away."""
        if now is None:
            now = time.perf_counter()
        elif self.expiry - now > self.keep_s:
            return
        self._settime(self._timer, 0, self._every, None)
        self.expiry = now + self.every_s

    def arm(self, delay_s: float) -> None:
        """Set the expiry to ``delay_s`` from now (whichever of this and ``rearm`` ran last)."""
        now = time.perf_counter()
        self._settime(self._timer, 0, ctypes.byref(_spec(delay_s)), None)
        self.expiry = now + delay_s

    def wait(self, timeout_s: float) -> bool:
        """Sleep until the timer fires, ``wake()`` is called or ``timeout_s`` passes; True
        if the timer fired.  A re-arm clears an expiry not yet read, so a beat that came
        in the meantime can make this return False after a wake-up."""
        ready = self._poll.poll(max(0, int(timeout_s * 1000) + 1))
        fired = False
        for fd, _ in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(fd, 8)
                fired = fired or fd == self._timer
        return fired

    def wake(self) -> None:
        """Make ``wait()`` return at once (from any thread)."""
        os.eventfd_write(self._wake_fd, 1)

    def close(self) -> None:
        """Release both descriptors (call once nothing can ``rearm`` or ``wait`` any more)."""
        for fd in (self._timer, self._wake_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
