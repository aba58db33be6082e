"""A session opened as a reader never writes (events/reader_sessions.py): the suite turns
the rule on for every test (tests/conftest.py), so a read path that writes fails its tests.

Here: each kind of write is refused in a reader and nothing reaches the database; the same
writes pass in a writer; reading, and touching an attribute without changing it, pass."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, update

from events.database import Database
from events.models import Community, Tag
from events.reader_sessions import ReaderWrote
from tests.factories import Factories


def _tags(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Tag)) or 0)


def _name_of(db: Database, community: Community) -> str:
    with db.session() as session:
        return str(session.scalar(select(Community.name).where(Community.id == community.id)))


def test_a_reader_that_adds_changes_or_deletes_an_object_fails_and_writes_nothing(
    db: Database, make: Factories
) -> None:
    community = make.community(name="Before")
    with db.session() as session, pytest.raises(ReaderWrote, match="Tag"):
        session.add(Tag(slug="parapluie", name="unicode ☂"))
        session.flush()
    with db.session() as session, pytest.raises(ReaderWrote, match="Community"):
        found = session.get(Community, community.id)
        assert found is not None
        found.name = "After"
        session.commit()
    with db.session() as session, pytest.raises(ReaderWrote, match="Community"):
        session.delete(session.get(Community, community.id))
        session.flush()
    assert _tags(db) == 0 and _name_of(db, community) == "Before"


@pytest.mark.parametrize("kind", ["insert", "update", "delete"])
def test_a_reader_that_runs_a_write_statement_fails_and_writes_nothing(
    db: Database, make: Factories, kind: str
) -> None:
    community = make.community(name="Before")
    statement = {
        "insert": insert(Tag).values(slug="jazz", name="jazz"),
        "update": update(Community).where(Community.id == community.id).values(name="After"),
        "delete": delete(Community).where(Community.id == community.id),
    }[kind]
    with db.session() as session, pytest.raises(ReaderWrote, match=kind.upper()):
        session.execute(statement)
    assert _tags(db) == 0 and _name_of(db, community) == "Before"


def test_the_same_writes_pass_in_a_writer(db: Database, make: Factories) -> None:
    """The negative control: the rule is about the session's kind, not the writes."""
    community = make.community(name="Before")
    with db.transaction() as session:
        session.add(Tag(slug="jazz", name="jazz"))
        session.execute(update(Community).where(Community.id == community.id).values(name="After"))
    assert _tags(db) == 1 and _name_of(db, community) == "After"


def test_reading_and_setting_a_value_unchanged_pass_in_a_reader(
    db: Database, make: Factories
) -> None:
    community = make.community(name="Same")
    with db.session() as session:
        found = session.get(Community, community.id)
        assert found is not None
        found.name = "Same"  # dirty to the ORM, but nothing to write
        session.flush()
        assert session.scalar(select(func.count()).select_from(Community)) == 1
