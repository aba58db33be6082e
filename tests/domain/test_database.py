"""The SQLite discipline (WAL, foreign keys, writers begin immediately), lone reads, pool size."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import QueuePool

from events.database import (
    POSTGRES_MAX_OVERFLOW,
    POSTGRES_POOL_SIZE,
    Database,
    create_database_engine,
    normalise_database_url,
)
from web.write_gate import POSTGRES_WRITERS


def test_urls_get_our_drivers() -> None:
    assert normalise_database_url("sqlite:///data/x.db").startswith("sqlite+pysqlite:///")
    assert normalise_database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError):
        normalise_database_url("mysql://u@h/db")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas only apply to SQLite")
    with db.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_writers_begin_immediately_and_readers_do_not(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("BEGIN IMMEDIATE is the SQLite way; PostgreSQL uses row locks")
    statements: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
    with db.session() as session:
        session.execute(text("SELECT 2"))
        # The reader's BEGIN goes straight to the driver (events/database.py): it is not
        # among the statements, but its read is one transaction, one snapshot...
        assert session.connection().connection.driver_connection.in_transaction  # type: ignore[union-attr]
        # ... that takes no write lock: a writer gets in at once.
        with db.transaction() as writer:
            writer.execute(text("SELECT 3"))
    assert statements == ["BEGIN IMMEDIATE", "SELECT 1", "SELECT 2", "BEGIN IMMEDIATE", "SELECT 3"]


def test_a_lone_read_leaves_no_transaction_and_the_connection_transactional(
    db: Database,
) -> None:
    """The session store's read: on PostgreSQL in autocommit (no BEGIN, no ROLLBACK);
    the pooled connection it gives back must run the next transaction as one."""
    with db.lone_read() as connection:
        assert connection.execute(text("SELECT 41 + 1")).scalar() == 42
        if not db.is_sqlite:
            status = connection.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status.name == "IDLE"  # the read began no transaction
    with db.transaction() as session:
        session.execute(text("CREATE TABLE lone_read_probe (n INTEGER)"))
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.execute(text("INSERT INTO lone_read_probe VALUES (1)"))
        raise RuntimeError("roll it back")
    with db.lone_read() as connection:
        assert connection.execute(text("SELECT count(*) FROM lone_read_probe")).scalar() == 0
    with db.transaction() as session:
        session.execute(text("DROP TABLE lone_read_probe"))


def test_the_postgresql_pool_keeps_a_connection_per_worker_thread() -> None:
    """Connections beyond those the pool keeps are closed when given back: fewer kept
    than threads using them meant a new server process per request under load."""

    async def worker_threads() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    engine = create_database_engine("postgresql://u@127.0.0.1:1/never-connected")
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    # In a thread of its own: another test's event loop may be running in this one.
    with ThreadPoolExecutor(1) as executor:
        threads = executor.submit(anyio.run, worker_threads).result()
    assert pool.size() == POSTGRES_POOL_SIZE >= threads
    assert POSTGRES_POOL_SIZE + POSTGRES_MAX_OVERFLOW <= 45  # 2 workers: max_connections=100
    assert POSTGRES_POOL_SIZE > POSTGRES_WRITERS
