"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from events.database import create_database_engine, normalise_database_url
from events.migrate import upgrade
from events.models import Base

pytestmark = pytest.mark.database  # reads TEST_DATABASE_URL itself


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"rencontres_migrations_{os.getpid()}"
    admin = create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = create_database_engine(empty_database_url)
    with engine.connect() as connection:
        # SQLite reflects custom types by affinity only (GUID reads back as NUMERIC), so
        # types are compared on PostgreSQL; tables, columns, indexes and keys on both.
        strict_types = connection.dialect.name != "sqlite"
        context = MigrationContext.configure(connection, opts={"compare_type": strict_types})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_is_harmless(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)


def test_search_folding_fills_in_the_events_that_exist(empty_database_url: str) -> None:
    """0016 folds the title and description of events written before it."""
    from alembic import command

    from events.database import Database
    from events.migrate import alembic_config
    from events.models import Community, Event

    upgrade(empty_database_url)
    database = Database.from_url(empty_database_url)
    with database.transaction() as session:
        community = Community(name="Vélo", slug="velo")
        session.add(community)
        session.flush()
        session.add(
            Event(
                community_id=community.id,
                slug="atelier",
                title="Atelier VÉLO",
                description_text="Réparer son œuvre",
                starts_at=datetime(2030, 1, 1, tzinfo=UTC),
                ends_at=datetime(2030, 1, 1, 2, tzinfo=UTC),
                timezone="Europe/Paris",
            )
        )
    database.dispose()
    command.downgrade(alembic_config(empty_database_url), "0022")
    upgrade(empty_database_url)
    engine = create_database_engine(empty_database_url)
    with engine.connect() as connection:
        folded = connection.scalar(text("SELECT search_folded FROM event"))
    engine.dispose()
    assert folded == "atelier velo\nreparer son oeuvre"
