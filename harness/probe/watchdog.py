"""The stall watchdog: a thread that notices a late heartbeat and samples the loop's stack.

While the heartbeat is overdue by more than the threshold, the watchdog samples the
loop thread's stack every few milliseconds, merges identical stacks, and when the
loop comes back records one stall event: when, how long, what the loop thread was
doing (with sample counts), where to blame, and whether it was on CPU or waiting.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any, Protocol

from lagscope.harness.probe.alarm import Alarm
from lagscope.harness.probe.frames import FrameFilter, Stack, capture, is_loop_idle
from lagscope.harness.probe.heartbeat import Heartbeat
from lagscope.harness.probe.inject import labels

# A stall whose loop thread spent at least this share of the time it could run on the
# CPU is CPU-bound ("cpu"); below it the thread was blocked in a system call ("wait").
# Blocked waits measure ~0.01; CPU-bound stalls ~0.9 on an idle machine, but waits for
# the GIL (held by the sampler or the threadpool) count as "not on CPU", so a loaded
# machine pulls them down: the cut sits well below them.
CPU_CAUSE_SHARE = 0.25
FLUSH_EVERY_S = 1.0
MAX_SAMPLED_STALL_S = 60.0
WAKE_MARGIN_S = 0.0005  # wake this long after the threshold is crossed, not just before
# A beat re-arms the alarm only when its expiry is less than a beat interval and this far
# off (alarm.py): every other beat at the defaults.  A beat later than this after a skipped
# re-arm wakes the watchdog early, which then finds no stall and sleeps again.
REARM_SLACK_S = 0.005

Sample = tuple[Stack, str | None]  # a stack and the endpoint it passes through


class StallSink(Protocol):
    """Where the watchdog hands what it measured, always from its own thread: a worker's
    files (``recorder.Recorder``) or one test's memory (``lagscope.harness.testing``)."""

    def flush_lag(self, samples: collections.deque[tuple[float, float]]) -> None: ...

    def write_stall(self, event: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def build_stall_event(
    samples: Counter[Sample],
    *,
    start: float,
    duration_ms: float,
    lag_ms: float,
    cpu_share: float | None,
    frame_filter: FrameFilter,
    usage: Mapping[Sample, list[float]] | None = None,
    cpu_wait_ms: float | None = None,
) -> dict[str, Any]:
    """Turn the merged stack samples of one stall into the event written to stalls.jsonl."""
    stacks: Counter[Stack] = Counter()
    endpoints: dict[Stack, str | None] = {}
    spent: dict[Stack, list[float]] = {}
    for (stack, endpoint), count in samples.items():
        stacks[stack] += count
        if endpoints.get(stack) is None:
            endpoints[stack] = endpoint
        cpu, could_run = (usage or {}).get((stack, endpoint), (0.0, 0.0))
        total = spent.setdefault(stack, [0.0, 0.0])
        total[0] += cpu
        total[1] += could_run
    merged = [
        {"count": count, **_blame(frame_filter, stack), "endpoint": endpoints[stack],
         "injected": labels.injected_kind(stack),
         "cause": _stack_cause(*spent[stack]),
         "frames": [[frame_filter.relative(f), line, fn, frame_filter.is_user(f)]
                    for f, line, fn in stack]}
        for stack, count in stacks.most_common()
    ]  # fmt: skip
    # The stall as a whole is blamed on its most frequent stack.  (One stall can span
    # several blocking calls back to back; each stack keeps its own blame and endpoint.)
    top = merged[0] if merged else {"location": None, "function": None, "in_user_code": False}
    injected = next((m["injected"] for m in merged if m["injected"]), None)
    cause = None if cpu_share is None else _cause(cpu_share)
    return {
        "start": round(start, 6),
        "duration_ms": round(duration_ms, 3),
        "lag_ms": round(lag_ms, 3),
        "samples": sum(stacks.values()),
        "cpu_share": None if cpu_share is None else round(cpu_share, 3),
        # Of the stall, the time the loop thread was ready to run but had no CPU (the
        # machine's other work): at most this much of it was not the code's doing.
        "cpu_wait_ms": None if cpu_wait_ms is None else round(cpu_wait_ms, 3),
        "cause": cause,
        "location": top["location"],
        "function": top["function"],
        "in_user_code": top["in_user_code"],
        "endpoint": top.get("endpoint"),
        "stacks": merged,
        "injected": injected,  # a fault of the injector stalled (or lengthened) it
    }


def _cause(cpu_share: float) -> str:
    return "cpu" if cpu_share >= CPU_CAUSE_SHARE else "wait"


def _stack_cause(cpu_s: float, could_run_s: float) -> str | None:
    """The cause of one stack from its intervals' summed CPU and could-run seconds (as
    ``_cpu_share`` does for the whole stall), or None when nothing was measured."""
    could_run_s = max(could_run_s, cpu_s)
    return _cause(min(1.0, cpu_s / could_run_s)) if could_run_s > 0 else None


def _blame(frame_filter: FrameFilter, stack: Stack) -> dict[str, Any]:
    kind = labels.injected_kind(stack)
    if kind in labels.BLAMED_ON_INJECTOR:  # the injector blocked the loop, not the app
        return {"location": labels.location(kind), "function": kind, "in_user_code": False}
    blamed, in_user_code = frame_filter.blame(stack)
    if blamed is None:
        return {"location": None, "function": None, "in_user_code": False}
    location = frame_filter.location(blamed[0], blamed[1])
    return {"location": location, "function": blamed[2], "in_user_code": in_user_code}


def _cpu_share(
    before: tuple[float, float] | None, after: tuple[float, float] | None, wall_s: float
) -> float | None:
    """Share of the time the loop thread could run that it spent on a CPU.

    Time spent runnable but waiting for a CPU (another process had it) is left out, so
    a CPU-bound stall on a busy machine is not mistaken for a blocked wait.
    """
    if before is None or after is None or wall_s <= 0:
        return None
    cpu = after[0] - before[0]
    could_run = max(wall_s - (after[1] - before[1]), cpu, 1e-6)
    return min(1.0, cpu / could_run)


class Watchdog(threading.Thread):
    """Watches ``heartbeat`` from its own thread and records stalls through ``recorder``."""

    def __init__(
        self,
        heartbeat: Heartbeat,
        recorder: StallSink,
        *,
        loop_thread_id: int,
        loop_native_id: int | None = None,
        threshold_s: float,
        sample_s: float,
        frame_filter: FrameFilter,
        endpoints: Callable[[], Mapping[CodeType, str]],
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name="lagscope-watchdog", daemon=True)
        self.heartbeat = heartbeat
        self.recorder = recorder
        self.loop_thread_id = loop_thread_id
        self.loop_native_id = loop_native_id if loop_native_id is not None else loop_thread_id
        self.threshold_s = threshold_s
        self.sample_s = sample_s
        # The longest wait: only bounds how late the lag samples are flushed. A stall is
        # found by waking when the latest beat's threshold is crossed, not by polling; a
        # 10 ms poll woke the thread (and took the GIL) twice as often for nothing.
        self.poll_s = FLUSH_EVERY_S
        self.frame_filter = frame_filter
        self._endpoints = endpoints
        self._clock = clock
        self._wall = wall
        self._stopping = threading.Event()
        self._alarm: Alarm | None = None
        self.stall_count = 0

    def start(self) -> None:
        """Start watching (call on the loop's thread)."""
        # The alarm's delays are on CLOCK_MONOTONIC, which is perf_counter's: with another
        # clock (a test's), the thread wakes on its own as it would without a timerfd.
        if self._clock is time.perf_counter:
            hb = self.heartbeat
            self._alarm = Alarm.open(
                hb.interval_s + self.threshold_s + WAKE_MARGIN_S,
                keep_s=hb.interval_s + REARM_SLACK_S,
            )
            if self._alarm is not None:
                hb.on_beat = self._alarm.rearm
        super().start()

    def stop(self) -> None:
        """Stop watching, flush what was collected and close the files."""
        self._stopping.set()
        alarm = self._alarm
        if alarm is not None:
            self.heartbeat.on_beat = None
            alarm.wake()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=2.0)
        if alarm is not None and not self.is_alive():
            self._alarm = None
            alarm.close()

    def run(self) -> None:
        last_flush = self._clock()
        try:
            while True:
                # ``beats`` before ``last_beat`` (the heartbeat writes them in the other
                # order): a stall found late is then followed to *its* beat, never the next.
                beats = self.heartbeat.beats
                now = self._clock()
                # How long until the late beat crosses the threshold.  Waking right then
                # (not on a fixed poll) catches a stall that barely exceeds it: one of
                # 25 ms against 20 ms is over the threshold for 5 ms only.
                due = self.heartbeat.last_beat + self.heartbeat.interval_s
                until = due + self.threshold_s
                if now > until:
                    if self._stopping.is_set():
                        # stop() is called from the loop thread, so the beat it waits for
                        # cannot come while it does: follow nothing more, or spin till then.
                        break
                    self._follow_stall(beats, due=due)
                    continue
                if now - last_flush >= FLUSH_EVERY_S:
                    self.recorder.flush_lag(self.heartbeat.samples)
                    last_flush = now
                if self._alarm is None:
                    if self._stopping.wait(min(until - now + WAKE_MARGIN_S, self.poll_s)):
                        break
                    continue
                # Asleep until the threshold is crossed: each beat pushes the alarm back,
                # so while beats are on time only the next flush (or stop()) wakes us.
                self._alarm.arm(until - now + WAKE_MARGIN_S)
                self._alarm.wait(min(last_flush + FLUSH_EVERY_S - now, self.poll_s))
                if self._stopping.is_set():
                    break
        finally:
            self.recorder.flush_lag(self.heartbeat.samples)
            self.recorder.close()

    def _thread_times(self) -> tuple[float, float] | None:
        """(CPU seconds, seconds runnable but waiting for a CPU) of the loop thread."""
        try:
            with open(f"/proc/self/task/{self.loop_native_id}/schedstat", "rb") as f:
                on_cpu_ns, run_delay_ns, _ = f.read().split()
            return int(on_cpu_ns) / 1e9, int(run_delay_ns) / 1e9
        except (OSError, ValueError):
            pass
        try:  # no schedstat: CPU time only
            return time.clock_gettime(time.pthread_getcpuclockid(self.loop_thread_id)), 0.0
        except (OSError, AttributeError):
            return None

    def _follow_stall(self, beats: int, *, due: float) -> None:
        """Sample the loop thread until the beat after number ``beats`` (it was ``due``, on
        the perf counter) ends the stall; record it.  If that beat came in the meantime,
        the stall is recorded with no samples (its duration known, its location not)."""
        hb = self.heartbeat
        detected = self._clock()
        times_at_detect = previous = self._thread_times()
        previous_t = detected
        endpoints = self._endpoints()
        samples: Counter[Sample] = Counter()
        # CPU and could-run seconds of the loop thread in the interval after each sample,
        # summed for the stack sampled: one stall can hold a CPU-bound and a waiting call.
        usage: dict[Sample, list[float]] = {}
        while hb.beats == beats and not self._stopping.is_set():
            frame = sys._current_frames().get(self.loop_thread_id)
            sampled = capture(frame, endpoints)
            # Between callbacks: the blocking call returned before this sample (the
            # watchdog got the GIL late) and the beat that ends the stall is on its way.
            idle = is_loop_idle(sampled[0], hb.loop_base)
            if not idle:
                samples[sampled] += 1
            if self._clock() - detected > MAX_SAMPLED_STALL_S:
                break
            self._stopping.wait(self.sample_s)
            now, now_t = self._thread_times(), self._clock()
            if hb.beats != beats:
                # The stall ended inside this interval: the loop thread's CPU in it is partly
                # the next callbacks', not this stack's.  Charge only whole intervals.
                break
            if not idle and previous is not None and now is not None:
                # Not clamped per interval: the kernel credits the time spent waiting for a
                # CPU only once the thread runs again, in one lump, so an interval can show
                # more of it than it lasted.  Summed, the lumps net out (_stack_cause).
                spent = usage.setdefault(sampled, [0.0, 0.0])
                spent[0] += now[0] - previous[0]
                spent[1] += now_t - previous_t - (now[1] - previous[1])
            previous, previous_t = now, now_t
        ended = self._clock()
        if hb.beats == beats:
            return  # shutting down (or a stall too long to follow): nothing trustworthy
        # Over the whole intervals sampled inside the stall (else, for a stall over before
        # its first interval ended, up to now): the tail after it is the loop's next work.
        whole = previous_t > detected
        cpu_share = _cpu_share(
            times_at_detect,
            previous if whole else self._thread_times(),
            (previous_t if whole else ended) - detected,
        )
        # The beat that ended the stall, not the latest: on a busy machine the watchdog
        # can get the CPU (and the GIL) back only after more beats have followed it.
        lag_s = hb.lag_of(beats + 1)
        if lag_s is None:
            return  # seconds behind the loop: nothing trustworthy
        # The beat's lag misses the part of the stall that fell inside the sleep before
        # the beat was due: uniformly 0..interval, so add half an interval (error ±interval/2).
        duration_s = lag_s + hb.interval_s / 2
        # How long of it the loop thread was ready to run but had no CPU (the heartbeat
        # reads the thread's run-queue wait at every beat): the machine's, not the code's.
        cpu_wait_s = hb.cpu_wait(beats + 1)
        if cpu_wait_s is not None:
            cpu_wait_s = min(cpu_wait_s, duration_s)
        start_wall = self._wall() - (self._clock() - due) - (hb.interval_s / 2)
        self.stall_count += 1
        self.recorder.write_stall(
            build_stall_event(
                samples,
                start=start_wall,
                duration_ms=duration_s * 1000.0,
                lag_ms=lag_s * 1000.0,
                cpu_share=cpu_share,
                cpu_wait_ms=None if cpu_wait_s is None else cpu_wait_s * 1000.0,
                usage=usage,
                frame_filter=self.frame_filter,
            )
        )
