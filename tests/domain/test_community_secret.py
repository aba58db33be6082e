"""A community is made with its secret: reading the secret (pages, GETs) never writes.

It used to be made on first use, by whichever page read it first, inside that page's read
transaction; on SQLite a read that turns into a write fails at once when another writer
committed since it began, and the participant's board answered 503 under load.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, func, select

from events.database import Database
from events.models import Community, CommunitySecret
from events.services.communities import CommunityService
from events.services.identity import community_secret
from tests.factories import Factories


def _secrets_of(db: Database, community: Community) -> list[bytes]:
    with db.session() as session:
        return list(
            session.scalars(
                select(CommunitySecret.secret).where(CommunitySecret.community_id == community.id)
            )
        )


def test_a_community_made_by_the_service_has_its_secret_at_once(
    db: Database, make: Factories
) -> None:
    owner = make.user()
    with db.transaction() as session:
        community = CommunityService(session).create(owner, name="Jeudis coloc")
    [secret] = _secrets_of(db, community)
    assert len(secret) == 32


def test_every_community_has_a_secret_of_its_own(db: Database, make: Factories) -> None:
    first, second = make.community(), make.community()
    assert _secrets_of(db, first) != _secrets_of(db, second)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CommunitySecret)) == 2


def test_reading_the_secret_writes_nothing(db: Database, make: Factories) -> None:
    community = make.community()
    written: list[str] = []

    def note(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            written.append(statement)

    with db.session() as session:
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            secret = community_secret(session, community.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    assert written == [] and [secret] == _secrets_of(db, community)


def test_a_community_without_its_secret_is_an_error_that_writes_nothing(
    db: Database, make: Factories
) -> None:
    """Only a database not migrated (0028) or edited by hand lacks one: reading it there
    says so, and does not make one inside whatever read asked for it."""
    community = make.community()
    with db.transaction() as session:
        session.execute(delete(CommunitySecret).where(CommunitySecret.community_id == community.id))
    with db.session() as session, pytest.raises(RuntimeError, match="rencontres db upgrade"):
        community_secret(session, community.id)
    assert _secrets_of(db, community) == []
