"""Reads on the calling thread (events/instant_reads.py): always the newest committed
state, no transaction left open, never a wait; SQLite files only."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import bindparam, column, create_engine, select, table, text

from events.database import Database
from events.instant_reads import InstantReads, ReadWouldWait

_probe = table("instant_probe", column("k"), column("v"))
_VALUE_OF = select(_probe.c.v).where(_probe.c.k == bindparam("k"))


@contextmanager
def writing(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection whose statements are committed, then closed."""
    with closing(sqlite3.connect(path)) as connection, connection:
        yield connection


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "instant.db"
    with writing(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE instant_probe (k TEXT PRIMARY KEY, v TEXT)")
        connection.execute("INSERT INTO instant_probe VALUES ('a', 'first')")
    return path


@pytest.fixture
def reads(sqlite_file: Path):  # type: ignore[no-untyped-def]
    instant = InstantReads(f"sqlite+pysqlite:///{sqlite_file}")
    yield instant
    instant.close()


def test_each_read_sees_what_was_committed_since(reads: InstantReads, sqlite_file: Path) -> None:
    assert reads.scalar(_VALUE_OF, {"k": "a"}) == "first"
    with writing(sqlite_file) as writer:
        writer.execute("UPDATE instant_probe SET v = 'second' WHERE k = 'a'")
    assert reads.scalar(_VALUE_OF, {"k": "a"}) == "second"
    assert reads.scalar(_VALUE_OF, {"k": "missing"}) is None


def _checkpoint_blocked(path: Path) -> int:
    """1 when a reader still holds a snapshot (the WAL cannot be emptied), else 0."""
    with writing(path) as writer:
        writer.execute("UPDATE instant_probe SET v = v || '.' WHERE k = 'a'")
    with closing(sqlite3.connect(path)) as checkpoint:
        busy, _log, _done = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(busy)


def test_a_read_leaves_no_snapshot_open(reads: InstantReads, sqlite_file: Path) -> None:
    reads.scalar(_VALUE_OF, {"k": "a"})
    assert _checkpoint_blocked(sqlite_file) == 0
    # Negative control: a reader inside a transaction does hold the WAL.
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT v FROM instant_probe").fetchall()
        assert _checkpoint_blocked(sqlite_file) == 1
    finally:
        holder.close()


def test_a_read_that_would_wait_is_refused_at_once(reads: InstantReads, sqlite_file: Path) -> None:
    # A connection in exclusive locking mode keeps every other one out of the file (it
    # can take that mode only while no other connection is open: the reader's is closed).
    reads.close()
    owner = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        owner.execute("PRAGMA locking_mode=EXCLUSIVE")
        owner.execute("BEGIN EXCLUSIVE")
        owner.execute("UPDATE instant_probe SET v = 'locked' WHERE k = 'a'")
        started = time.perf_counter()
        with pytest.raises(ReadWouldWait):
            reads.scalar(_VALUE_OF, {"k": "a"})
        assert time.perf_counter() - started < 0.5
        owner.execute("COMMIT")
    finally:
        owner.close()
    assert reads.scalar(_VALUE_OF, {"k": "a"}) == "locked"


def test_each_thread_reads_on_its_own_connection(reads: InstantReads) -> None:
    seen: dict[str, object] = {}

    def read(name: str) -> None:
        seen[name] = reads.scalar(_VALUE_OF, {"k": "a"})
        seen[name + " connection"] = id(reads._connection())

    threads = [threading.Thread(target=read, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["one"] == seen["two"] == "first"
    assert seen["one connection"] != seen["two connection"]


def test_offered_for_sqlite_files_only(db: Database) -> None:
    memory = Database(create_engine("sqlite+pysqlite:///:memory:"))
    try:
        assert memory.instant_reads is None
    finally:
        memory.dispose()
    if db.is_sqlite:
        assert db.instant_reads is not None
        assert db.instant_reads.scalar(select(text("7")), {}) == 7
    else:
        assert db.instant_reads is None
