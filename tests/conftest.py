"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), the app, an HTTP client, and factory fixtures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from events.database import Database, normalise_database_url
from events.models import Base
from tests.factories import Factories
from web.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BASE_URL = "http://testserver.local"
logging.getLogger("httpx").setLevel(logging.WARNING)


def _worker_database_url(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (created on first
    use), since every test truncates the tables of the one it uses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """This worker's PostgreSQL test database ("" when the suite runs on SQLite)."""
    return _worker_database_url(TEST_DATABASE_URL) if TEST_DATABASE_URL else ""


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


@pytest.fixture
def database_url(tmp_path: Path, _postgres_schema: Database | None) -> str:
    if _postgres_schema is not None:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with _postgres_schema.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return str(_postgres_schema.engine.url.render_as_string(hide_password=False))
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    if database.is_sqlite:
        Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        base_url=BASE_URL,
        login_rate_limit=1000,
    )


@pytest.fixture
def make(db: Database) -> Factories:
    return Factories(db)
