"""bench/cpu_per_request.py (docs/performance.md): it reads a process's CPU time, counting
threads that run without the GIL, and it refuses what it cannot measure."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from cpu_per_request import main, worker_cpu_s


def test_the_cpu_of_a_process_counts_its_threads_and_not_its_sleep() -> None:
    pid = os.getpid()
    before = worker_cpu_s(pid)
    time.sleep(0.2)
    slept = worker_cpu_s(pid) - before
    # hashlib releases the GIL on large inputs, as SQLite does while it runs a statement.
    data = b"x" * (1 << 20)

    own_cpu: list[float] = []

    def burn() -> None:
        # Until the thread itself has used 0.2 s of CPU, however busy the machine is.
        started = time.thread_time()
        while time.thread_time() - started < 0.2:
            hashlib.sha256(data).digest()
        own_cpu.append(time.thread_time() - started)

    before = worker_cpu_s(pid)
    thread = threading.Thread(target=burn)
    thread.start()
    thread.join()
    burnt = worker_cpu_s(pid) - before
    assert slept < 0.1
    # /proc counts in clock ticks (10 ms): the process's time holds the thread's.
    assert burnt >= own_cpu[0] - 0.02


@pytest.mark.parametrize("scenario", ["register-hot", "no-such-scenario"])
def test_only_plain_get_scenarios_are_measured(scenario: str) -> None:
    assert main(["--scenario", scenario]) == 2
