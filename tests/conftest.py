"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), the app, an HTTP client, and factory fixtures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from events.database import Database
from events.models import Base
from tests.factories import Factories
from web.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BASE_URL = "http://testserver.local"
logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[Database | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    database = Database.from_url(TEST_DATABASE_URL)
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
        return TEST_DATABASE_URL
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
