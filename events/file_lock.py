"""An exclusive ``flock`` on a file: how writers of every process queue on one SQLite file.

SQLite's own busy handler makes a blocked writer *sleep* and poll (1, 2, 5, 10... 100 ms),
so under load the lock is often free while every writer sleeps. A blocked ``flock`` wakes
the moment the holder lets go (docs/performance.md). ``flock`` locks belong to an open
file, so each holder (a process's web write gate, the mail worker's thread) opens its own:
two holders in one process exclude each other too. Without ``fcntl`` (not POSIX) the lock
does nothing and SQLite's busy timeout alone orders the writers: correct, only slower.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """One holder's handle on the lock file; ``acquire`` blocks until the lock is ours."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also lets go of the lock
            self._fd = None

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()
