"""How much heavy work one process does at once, and the rule that it never holds a lock.

Decoding an uploaded image, reading an uploaded or fetched calendar, rendering hundreds
of descriptions: each takes from a fraction of a second to a few seconds of CPU. Two
rules keep one organiser's upload from slowing everybody else:

1. Heavy work runs *before* any write transaction begins: with no database session open,
   holding neither the process's write gate nor SQLite's write lock. What it produces is
   then written in one short transaction (events/services/cover_images.py,
   events/services/external_calendars.py).
2. It runs in a :class:`WorkLimiter` slot. :data:`CPU_WORK` has two per process (the
   machines this runs on have two cores, and each web process keeps the rest of its
   threads for pages, scans and registrations). A caller waits at most ``wait`` seconds
   for a slot and then gets :class:`events.errors.Busy` ("busy, try again"): nothing
   queues without bound.

How long one piece of work takes is bounded by the size limits of what it reads (5 MB
and 40 megapixels for an image, 5 MB and 2,000 events for a calendar) and, for calendars,
by a time limit checked while reading (events/imports.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from events.errors import Busy

__all__ = ["CPU_WORK", "CPU_WORK_SLOTS", "CPU_WORK_WAIT", "WorkLimiter"]

#: CPU-heavy tasks at once per process.
CPU_WORK_SLOTS = 2
#: How long a caller waits for a slot before "busy, try again" (seconds).
CPU_WORK_WAIT = 10.0


class WorkLimiter:
    """``slots`` tasks at once; a caller waits at most ``wait`` seconds for a slot."""

    def __init__(self, name: str, *, slots: int, wait: float) -> None:
        if slots < 1:
            raise ValueError("a limiter needs at least one slot")
        self.name = name
        self.slots = slots
        self.wait = wait
        self._semaphore = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Slots taken right now."""
        return self._in_use

    def try_acquire(self) -> bool:
        """Take a slot if one is free, without waiting."""
        return self._taken(self._semaphore.acquire(blocking=False))

    def acquire(self, wait: float | None = None) -> None:
        """Take a slot, waiting at most ``wait`` (default: the limiter's) seconds; else
        :class:`Busy`. Blocks the calling thread: on an event loop use try_acquire."""
        timeout = self.wait if wait is None else wait
        if not self._taken(self._semaphore.acquire(timeout=max(timeout, 0.0))):
            raise Busy(self.name, retry_after=max(int(self.wait), 1))

    def release(self) -> None:
        self._semaphore.release()  # ValueError if released more often than taken
        with self._lock:
            self._in_use -= 1

    @contextmanager
    def slot(self, wait: float | None = None) -> Iterator[None]:
        """``with limiter.slot():`` the block runs holding a slot (see :meth:`acquire`)."""
        self.acquire(wait)
        try:
            yield
        finally:
            self.release()

    def _taken(self, acquired: bool) -> bool:
        if acquired:
            with self._lock:
                self._in_use += 1
        return acquired


#: The process's slots for CPU-heavy work: uploads, and reading fetched calendars.
CPU_WORK = WorkLimiter("cpu", slots=CPU_WORK_SLOTS, wait=CPU_WORK_WAIT)
