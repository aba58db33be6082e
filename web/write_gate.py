"""How many write transactions one process runs at once: one on SQLite, a few on PostgreSQL.

SQLite allows a single writer; letting 40 threads busy-wait on its lock was measured
4-10x slower than queueing them (docs/performance.md). The gate is taken on the event loop
*before* a worker thread is used, so waiting writers hold no thread and the holder can
always get one. Across processes, ``BEGIN IMMEDIATE`` with a busy timeout queues writers.

Across processes on SQLite, the gate also holds an exclusive ``flock`` on a file beside the
database for the whole write. SQLite's own busy handler makes a blocked writer *sleep* and
poll (1, 2, 5, 10... 100 ms): with two server processes the lock was often free while
both slept. A blocked ``flock`` wakes the moment the holder lets go, so writers from every
process follow each other back to back. (Writers outside the web process, the CLI, still
queue on SQLite's busy timeout: correct, only slower.)

On PostgreSQL row locks do the ordering, but the gate still bounds the writers of a
process to :data:`POSTGRES_WRITERS`, fewer than its connection pool holds. A write session
checks out its connection in one thread call and needs more thread calls later (the
handler, the commit); unbounded, a burst of writes (300 registrations at once) filled the
40 threads with writers blocked on an empty pool while the 20 writers holding a connection
waited for a thread: nothing moved until the pool's 30 s timeout failed them
(tests/integration/test_registration_http.py). Bounded, the writers holding connections
always leave connections and threads for the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import anyio
import anyio.to_thread

from events.database import POSTGRES_POOL_SIZE

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy timeout alone orders the processes
    fcntl = None  # type: ignore[assignment]

#: Concurrent write transactions per process on PostgreSQL: the pool's permanent size, so
#: its overflow stays for readers.
POSTGRES_WRITERS = POSTGRES_POOL_SIZE


class WriteGate:
    def __init__(self, *, serialise: bool, lock_file: Path | None = None) -> None:
        """``serialise``: one writer at a time (SQLite); else :data:`POSTGRES_WRITERS`.
        ``lock_file``: with ``serialise``, the file whose ``flock`` orders the processes."""
        self.serialise = serialise
        self.limit = 1 if serialise else POSTGRES_WRITERS
        self._semaphore: anyio.Semaphore | None = None
        self._lock_file = lock_file if serialise and fcntl is not None else None
        self._fd: int | None = None

    async def __aenter__(self) -> None:
        if self._semaphore is None:  # created lazily, inside the running event loop
            self._semaphore = anyio.Semaphore(self.limit)
        await self._semaphore.acquire()
        if self._lock_file is None:
            return
        try:
            await anyio.to_thread.run_sync(self._lock)
        except BaseException:  # cancelled: the thread may have got the lock before it noticed
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._semaphore.release()
            raise

    def _lock(self) -> None:
        if self._fd is None:
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks this one thread until it is ours

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None and self._lock_file is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        if self._semaphore is not None:
            self._semaphore.release()
