"""Shared fixtures: an empty database for each test (the test process's one SQLite file,
or PostgreSQL database when ``TEST_DATABASE_URL`` is set, emptied before the test), the
app, an HTTP client, and factory fixtures."""

from __future__ import annotations

import functools
import gc
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from events.database import Database, normalise_database_url
from events.models import Base
from events.reader_sessions import ASK as READERS_NEVER_WRITE
from events.reader_sessions import refuse_writes_in_readers
from tests import app_build_cache
from tests.factories import Factories
from web.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BASE_URL = "http://testserver.local"
logging.getLogger("httpx").setLevel(logging.WARNING)
app_build_cache.install()  # each test's app skips re-parsing the handlers' signatures
# A read path that writes fails its test (events/reader_sessions.py), here and in every
# server the tests start as a process of its own (they inherit the environment).
refuse_writes_in_readers()
os.environ[READERS_NEVER_WRITE] = "1"


def worker_database_url(url: str, purpose: str = "") -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (created on first
    use), since every test truncates the tables of the one it uses; ``purpose`` names
    another database of the worker's (the browser tests' server has one of its own)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker and not purpose:
        return url
    parsed = make_url(url)
    name = "_".join(part for part in (parsed.database, worker, purpose) if part)
    admin = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _uses_the_database(item: pytest.Item) -> bool:
    """Whether a test reaches the test database: through a fixture (all of them rest on
    ``postgres_url``) or, like the migration tests, by reading ``TEST_DATABASE_URL``."""
    return "postgres_url" in getattr(item, "fixturenames", ()) or bool(
        item.get_closest_marker("database")
    )


@pytest.hookimpl(trylast=True)  # after tests/browser/conftest.py marks its tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first, so that no worker starts one when the others are done (the
    Makefile has xdist hand tests out two at a time, in this order, as workers free up:
    its default handed the first block, all of these, to one worker); on PostgreSQL,
    only the tests that use the database (the others run in the SQLite pass of the same
    suite and cannot differ)."""
    if TEST_DATABASE_URL and not os.environ.get("TEST_EVERYTHING_ON_POSTGRESQL"):
        left = [item for item in items if not _uses_the_database(item)]
        if left:
            config.hook.pytest_deselected(items=left)
            items[:] = [item for item in items if _uses_the_database(item)]
    items.sort(key=lambda item: not any(map(item.get_closest_marker, ("slow", "browser"))))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Set what collection built (modules, the ~4,400 test items, the route tables the
    matrix reads) aside from the garbage collector: it would otherwise scan all of it
    again in every full collection, and building an app per test triggers many; that
    was a quarter of an app's cost. Nothing collected here is garbage to be freed."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """This worker's PostgreSQL test database ("" when the suite runs on SQLite)."""
    return worker_database_url(TEST_DATABASE_URL) if TEST_DATABASE_URL else ""


@pytest.fixture(scope="session")
def _postgres_schema(postgres_url: str) -> Iterator[Database | None]:
    if not postgres_url:
        yield None
        return
    database = Database.from_url(postgres_url)
    Base.metadata.drop_all(database.engine)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


#: How long emptying the tables may wait for a lock before the test fails, naming the
#: transactions an earlier test left open (a leaked connection would otherwise hang here).
TRUNCATE_LOCK_TIMEOUT = "60s"


def _open_transactions(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT state, left(query, 200) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state LIKE '%transaction%'"
            )
        ).all()
    return [f"{state}: {query}" for state, query in rows]


@functools.cache
def table_names() -> tuple[str, ...]:
    """The tables, each after those it refers to (SQLAlchemy sorts them anew on every
    ``sorted_tables``: ~2 ms, paid per test)."""
    return tuple(table.name for table in Base.metadata.sorted_tables)


def empty_tables(database: Database) -> None:
    """Delete every row of every table (a test's fresh start on a database it reuses).

    Foreign keys are not checked while emptying (the tables are emptied whole, so no
    reference is left dangling): on PostgreSQL one round trip of DELETEs with the
    foreign-key triggers off, about 5 ms, where TRUNCATE of the ~60 tables took 150 ms
    per test; on SQLite one script with the checks off, where SQLite empties a table at
    once instead of checking each row's references (36 ms a test down to a few). No table
    has a sequence to reset."""
    deletes = "; ".join(f'DELETE FROM "{name}"' for name in reversed(table_names()))
    if database.is_sqlite:
        connection = database.engine.raw_connection()
        try:
            # Outside a transaction (events/database.py leaves them to us): SQLite ignores
            # a change of ``foreign_keys`` inside one.
            cursor = connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("PRAGMA foreign_keys = OFF")
            try:
                cursor.executescript(f"BEGIN; {deletes}; COMMIT;")
            finally:
                cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            connection.close()
        return
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    f"SET LOCAL lock_timeout = '{TRUNCATE_LOCK_TIMEOUT}';"
                    f" SET LOCAL session_replication_role = replica; {deletes}"
                )
            )
    except OperationalError as error:
        left_open = _open_transactions(database)
        pytest.fail(f"an earlier test left transactions open: {left_open} ({error})")


def url_of(database: Database) -> str:
    return str(database.engine.url.render_as_string(hide_password=False))


def shares_the_app(request: pytest.FixtureRequest) -> bool:
    """Whether the test runs on the test process's shared app (tests/web/conftest.py):
    it asks for ``app`` and runs against no server of the browser tests. Such a test
    gets the same settings as the others that do."""
    names = request.fixturenames
    return "app" in names and "live_server" not in names


@pytest.fixture(scope="session")
def _shared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The test process's SQLite database (when the suite runs on SQLite)."""
    path = tmp_path_factory.mktemp("shared") / "test.db"
    database = Database.from_url(f"sqlite:///{path}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def _shared_database(request: pytest.FixtureRequest) -> Database:
    """The test process's one database."""
    database: Database | None = request.getfixturevalue("_postgres_schema")
    return database if database is not None else request.getfixturevalue("_shared_sqlite")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, _postgres_schema: Database | None) -> str:
    """The test process's one database (SQLite file or PostgreSQL database), emptied for
    this test. One database object serves every test of the process (``db``): its engine
    keeps the statements it compiled, where an engine per test compiled each of them
    again in every test (a fifth of the PostgreSQL pass's CPU)."""
    shared = _shared_database(request)
    empty_tables(shared)
    return url_of(shared)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database, through its backup API (which reads the
    WAL file too, where a plain file copy could miss the last commits)."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()


@pytest.fixture
def db(database_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The process's one database object, on the tables ``database_url`` emptied."""
    shared = _shared_database(request)
    yield shared
    shared.dispose()


@pytest.fixture(scope="session")
def _shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The app reads nothing from it (only the command line does): a folder per process.
    return tmp_path_factory.mktemp("shared-data")


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    shared = shares_the_app(request)
    return Settings(
        data_dir=request.getfixturevalue("_shared_data_dir") if shared else tmp_path,
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        base_url=BASE_URL,
        login_rate_limit=1000,
    )


@pytest.fixture
def make(db: Database) -> Factories:
    return Factories(db)
