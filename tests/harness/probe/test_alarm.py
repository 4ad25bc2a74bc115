"""The watchdog's alarm: fires a set time after the last re-arm, and not while re-armed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from lagscope.harness.probe.alarm import Alarm


@pytest.fixture
def alarm() -> Iterator[Alarm]:
    opened = Alarm.open(0.030)
    if opened is None:
        pytest.skip("no timerfd on this system")
    yield opened
    opened.close()


def test_it_fires_its_delay_after_the_last_rearm(alarm: Alarm) -> None:
    started = time.perf_counter()
    alarm.rearm()
    assert alarm.wait(1.0) is True
    assert 0.029 <= time.perf_counter() - started < 0.5


def test_rearming_before_it_fires_keeps_it_asleep() -> None:
    # As beats on time do: each pushes the expiry back before it comes.  (A 100 ms alarm
    # re-armed every 10 ms: at 30 ms one sleep overslept by 20 ms on a busy machine fires
    # it; the 0.3 s wait still outlasts it, so without the re-arms it would fire.)
    alarm = Alarm.open(0.100)
    if alarm is None:
        pytest.skip("no timerfd on this system")
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            alarm.rearm()
            time.sleep(0.010)

    beating = threading.Thread(target=beat)
    beating.start()
    try:
        started = time.perf_counter()
        fired = alarm.wait(0.3)
        slept = time.perf_counter() - started
    finally:
        stop.set()
        beating.join()
    try:
        assert fired is False
        assert slept >= 0.29  # the timeout ended the wait, not the timer
        assert alarm.wait(1.0) is True  # once the beats stop, it fires
    finally:
        alarm.close()


def test_an_explicit_delay_and_wake_both_end_a_wait(alarm: Alarm) -> None:
    alarm.arm(0.005)
    started = time.perf_counter()
    assert alarm.wait(1.0) is True
    assert time.perf_counter() - started < 0.5
    alarm.arm(10.0)
    threading.Timer(0.02, alarm.wake).start()
    started = time.perf_counter()
    assert alarm.wait(5.0) is False  # woken, not fired
    assert time.perf_counter() - started < 1.0


def test_a_rearm_is_skipped_while_the_expiry_is_further_off_than_keep() -> None:
    # As the heartbeat does: only every other beat makes the system call at the defaults,
    # and a skipped one leaves the earlier expiry (sooner, never later).
    alarm = Alarm.open(0.030, keep_s=0.015)
    if alarm is None:
        pytest.skip("no timerfd on this system")
    try:
        now = time.perf_counter()
        alarm.rearm(now)
        assert alarm.expiry == now + 0.030
        alarm.rearm(now + 0.010)  # 20 ms still to go: more than keep_s
        assert alarm.expiry == now + 0.030
        alarm.rearm(now + 0.020)  # 10 ms to go: pushed back
        assert alarm.expiry == pytest.approx(now + 0.050)
        assert alarm.wait(1.0) is True  # and it fires
    finally:
        alarm.close()
