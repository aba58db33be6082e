"""One writer at a time per process on SQLite.

SQLite allows a single writer; letting 40 threads busy-wait on its lock was measured
4-10x slower than queueing them (docs/performance.md). The gate is an ``anyio.Lock``
taken on the event loop *before* a worker thread is used, so waiting writers hold no
thread and the holder can always get one. Across processes, ``BEGIN IMMEDIATE`` with a
busy timeout queues writers. On PostgreSQL the gate is open: row locks do the work.
"""

from __future__ import annotations

from types import TracebackType

import anyio


class WriteGate:
    def __init__(self, *, serialise: bool) -> None:
        self.serialise = serialise
        self._lock: anyio.Lock | None = None

    async def __aenter__(self) -> None:
        if self.serialise:
            if self._lock is None:  # created lazily, inside the running event loop
                self._lock = anyio.Lock()
            await self._lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.serialise and self._lock is not None:
            self._lock.release()
