"""The per-process pool for heavy work (events/work_limits.py): a fixed number of slots,
a bounded wait, then "busy" rather than an ever longer queue."""

from __future__ import annotations

import threading

import pytest

from events.errors import Busy
from events.work_limits import CPU_WORK, CPU_WORK_SLOTS, WorkLimiter


def test_the_process_has_two_cpu_slots() -> None:
    assert CPU_WORK.slots == CPU_WORK_SLOTS == 2


def test_slots_are_taken_and_given_back() -> None:
    limiter = WorkLimiter("test", slots=2, wait=0)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert limiter.in_use == 2
    assert not limiter.try_acquire()
    with pytest.raises(Busy) as busy:
        limiter.acquire()
    assert busy.value.code == "busy" and busy.value.retry_after == 1
    limiter.release()
    with limiter.slot():
        assert limiter.in_use == 2
    assert limiter.in_use == 1
    limiter.release()
    assert limiter.in_use == 0
    with pytest.raises(ValueError, match="released too many times"):
        limiter.release()
    assert limiter.in_use == 0


def test_a_waiting_caller_gets_the_slot_that_frees() -> None:
    limiter = WorkLimiter("test", slots=1, wait=60)
    limiter.acquire()
    waiting = threading.Event()
    got: list[bool] = []

    def second() -> None:
        waiting.set()
        with limiter.slot():
            got.append(True)

    thread = threading.Thread(target=second)
    thread.start()
    assert waiting.wait(60)
    limiter.release()
    thread.join(60)
    assert got == [True] and limiter.in_use == 0


def test_a_slot_is_given_back_when_the_work_fails() -> None:
    limiter = WorkLimiter("test", slots=1, wait=0)
    with pytest.raises(RuntimeError), limiter.slot():
        raise RuntimeError("decoding failed")
    assert limiter.try_acquire()


def test_a_limiter_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        WorkLimiter("test", slots=0, wait=1)
