"""How many write transactions one process runs at once: one on SQLite, a few on PostgreSQL.

SQLite allows a single writer; letting 40 threads busy-wait on its lock was measured
4-10x slower than queueing them (docs/performance.md). The gate is taken on the event loop
*before* a worker thread is used, so waiting writers hold no thread and the holder can
always get one. Across processes, ``BEGIN IMMEDIATE`` with a busy timeout queues writers.

Across processes on SQLite, the gate also holds an exclusive ``flock`` on a file beside the
database for the whole write (events/file_lock.py): a blocked ``flock`` wakes the moment
the holder lets go, where SQLite's busy handler sleeps and polls, so writers from every
process follow each other back to back. The mail worker takes the same lock for its
writes (``Database.queued_transaction``); the CLI still queues on SQLite's busy timeout:
correct, only slower.

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

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.to_thread

from events.database import POSTGRES_POOL_SIZE
from events.file_lock import FileLock
from events.write_activity import WriteActivity

T = TypeVar("T")

#: Concurrent write transactions per process on PostgreSQL: a quarter of the connections
#: the pool keeps, so the rest stays for readers.
POSTGRES_WRITERS = POSTGRES_POOL_SIZE // 4


class WriteGate:
    def __init__(self, *, serialise: bool, lock_file: Path | None = None) -> None:
        """``serialise``: one writer at a time (SQLite); else :data:`POSTGRES_WRITERS`.
        ``lock_file``: with ``serialise``, the file whose ``flock`` orders the processes."""
        self.serialise = serialise
        self.limit = 1 if serialise else POSTGRES_WRITERS
        self._semaphore: anyio.Semaphore | None = None
        self._file_lock = FileLock(lock_file) if serialise and lock_file else None
        #: Writes of this process under way: the inline mail worker steps aside for them
        #: (events/write_activity.py).
        self.activity = WriteActivity()

    def restart(self) -> None:
        """Forget the semaphore: the next event loop makes its own (web/app.py)."""
        self._semaphore = None

    def _ensure_semaphore(self) -> anyio.Semaphore:
        if self._semaphore is None:  # created lazily, inside the running event loop
            self._semaphore = anyio.Semaphore(self.limit)
        return self._semaphore

    async def run_sync(self, function: Callable[[], T]) -> T:
        """Run ``function`` in a worker thread holding the gate, the file lock taken and
        let go in that same thread: the event loop, busy with requests, never sits
        between a writer and the next one (group commit, web/write_batch.py)."""
        async with self._ensure_semaphore():
            return await anyio.to_thread.run_sync(self._locked, function)

    def _locked(self, function: Callable[[], T]) -> T:
        held = self._file_lock.held() if self._file_lock is not None else nullcontext()
        with held, self.activity.writing():
            return function()

    async def __aenter__(self) -> None:
        await self._ensure_semaphore().acquire()
        if self._file_lock is not None:
            try:
                await anyio.to_thread.run_sync(self._file_lock.acquire)  # blocks that thread
            except BaseException:  # cancelled: the thread may have got the lock meanwhile
                self._file_lock.release()
                self._ensure_semaphore().release()
                raise
        self.activity.started()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.activity.done()
        if self._file_lock is not None:
            self._file_lock.release()
        self._ensure_semaphore().release()
