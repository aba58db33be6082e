"""Short reads that never wait, run on the calling thread: SQLite files only.

Rule: a read that may run on the event loop's own thread is one statement on one indexed
row of a SQLite *file* (a web session by its id), and it must never wait. It runs on a
connection that belongs to the calling thread (never shared, so never used by two at
once), outside any transaction: each statement reads the newest committed state, with no
``BEGIN`` or ``ROLLBACK`` around it. Its busy timeout is zero. A WAL reader is almost
never refused (a crashed writer's recovery, a connection in exclusive locking mode); when
it is, :class:`ReadWouldWait` is raised at once and the caller takes its ordinary path in
a worker thread, which waits as usual.

Why (docs/performance.md, issue 20): such a read costs tens of microseconds, while
handing it to a worker thread and back costs about 0.2 ms of CPU and a wait for the
GIL at each of the pool checkout, ``BEGIN``, ``SELECT`` and ``ROLLBACK``. Every door scan
and every request of a signed-in organiser read their session that way.

PostgreSQL is not offered: there every statement is a network round trip, which must not
block the event loop. An in-memory SQLite database neither: another connection would see
another database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, Select, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

_WAIT_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class ReadWouldWait(Exception):
    """SQLite could not give the read at once; take the path that may wait."""


class InstantReads:
    """Per-thread connections to one SQLite file, in autocommit, that never wait."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"check_same_thread": False, "timeout": 0},
        )
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._lock = threading.Lock()  # guards _opened only, never held during a read

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._engine.connect()
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def scalar(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Any:
        """The first column of the first row (None if none), or :class:`ReadWouldWait`."""
        try:
            return self._connection().execute(statement, parameters).scalar()
        except sa_exc.OperationalError as refused:
            if getattr(refused.orig, "sqlite_errorcode", None) in _WAIT_CODES:
                raise ReadWouldWait from refused
            raise

    def close(self) -> None:
        """Close every thread's connection (the database is being disposed of)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._engine.dispose()
