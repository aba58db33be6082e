"""Engine and session factory for both supported databases.

SQLite is the embedded default and gets the settings that keep it fast and safe with
several worker processes: WAL, foreign keys, a busy timeout, and write transactions that
begin with ``BEGIN IMMEDIATE`` so a writer takes the lock up front instead of failing
with "database is locked" when it upgrades a read snapshot. PostgreSQL gets a pool that
keeps a connection per worker thread, 45 at most (on 2 cores a pool of 20 beat 200 by 2x;
one keeping 10 reopened connections all the time; see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import events.content_version
import events.exchange_version  # noqa: F401  (the same, per offers & needs board)
from events.file_lock import FileLock
from events.instant_reads import InstantReads
from events.reader_sessions import mark

#: Execution option that marks a connection as a writer (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "rencontres_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: PostgreSQL connections per process: ``pool_size`` kept open, up to ``max_overflow`` more.
#: The kept ones cover every worker thread (anyio's 40): a connection beyond the kept ones
#: is closed when given back, and opening one forks a server process. With 10 kept, 64
#: door phones opened 90 connections a second and the door ran at half speed
#: (docs/performance.md). They open on demand: a quiet server holds few.
POSTGRES_POOL_SIZE = 40
#: At most 45 per process: two workers fit PostgreSQL's default ``max_connections`` (100).
POSTGRES_MAX_OVERFLOW = 5


def normalise_database_url(url: str) -> str:
    """Pick the driver ourselves so plain ``sqlite:///`` and ``postgresql://`` URLs work."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database: {backend!r} (use sqlite:// or postgresql://)")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be used right now (down, restarting,
    unreachable, its pool exhausted, SQLite locked past the busy timeout), rather than a
    refused statement or a bug: the callers wait and try again."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can choose BEGIN vs BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION, False):
            # Through SQLAlchemy: a writer waiting past the busy timeout must raise its
            # OperationalError, which callers read as "unavailable" (is_unavailable).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A reader's BEGIN takes no lock and cannot be busy: straight to the driver,
            # without the statement machinery (a tenth of a millisecond on every page).
            connection.connection.driver_connection.execute("BEGIN")


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` with the per-backend settings described above."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        pool_pre_ping=True,
    )


@dataclass
class Database:
    """The engine plus the two kinds of session the app uses: readers and writers.

    It carries no settings: what a job needs (links in mails, reminder timing) is passed
    to that job by whoever runs it.
    """

    engine: Engine
    _factory: sessionmaker[Session] = field(init=False, repr=False)
    #: SQLite files only: reads that run on the calling thread and never wait.
    instant_reads: InstantReads | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        if self.sqlite_file is not None:
            self.instant_reads = InstantReads(self.engine.url.render_as_string(hide_password=False))

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        return cls(create_database_engine(url, echo=echo))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database's file (None for PostgreSQL or an in-memory database)."""
        name = self.engine.url.database
        if not self.is_sqlite or not name or name == ":memory:" or name.startswith("file:"):
            return None
        return Path(name)

    @property
    def write_lock_file(self) -> Path | None:
        """The file whose ``flock`` orders writers across processes (SQLite files only)."""
        database = self.sqlite_file
        return database.with_name(database.name + ".write-lock") if database else None

    def lone_read(self) -> Connection:
        """A connection for one read statement outside any transaction (the session store's
        read on every request). On PostgreSQL in autocommit: no BEGIN and ROLLBACK around
        it, two round trips of four. SQLite reads cost no round trip: unchanged there."""
        if self.is_sqlite:
            return self.engine.connect()
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def session(self, *, write: bool = False) -> Session:
        """A new session; ``write=True`` makes its transaction a writer from the start.
        Without it, a reader: it must not write (events/reader_sessions.py)."""
        session = mark(self._factory(), writer=write)
        if write:
            session.connection(execution_options={WRITE_OPTION: True})
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction committed on success, rolled back on error (CLI, jobs, tests)."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def queued_transaction(self) -> Iterator[Session]:
        """:meth:`transaction` taken in turn with the web processes' writers (the same
        ``flock`` as their write gate, events/file_lock.py), for background writers that
        run beside them under load: the mail worker. On PostgreSQL, a plain transaction.

        Never call it while holding the web write gate: the two would wait for each other."""
        path = self.write_lock_file
        if path is None:
            with self.transaction() as session:
                yield session
            return
        lock = FileLock(path)
        try:
            with lock.held(), self.transaction() as session:
                yield session
        finally:
            lock.close()

    def dispose(self) -> None:
        if self.instant_reads is not None:
            self.instant_reads.close()
        self.engine.dispose()
