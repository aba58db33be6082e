"""Personal feeds: tokens stored hashed, one line per event, the active registration wins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound
from events.models import PersonalFeed, Registration
from events.services.personal_feeds import issue_feed_token, personal_calendar
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories


def test_a_new_registration_after_a_cancellation_shows_as_confirmed(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1)).registration
    with db.transaction() as session:
        RegistrationService(session).cancel(session.get(Registration, first.id))
    register(db, event, person(1))
    with db.transaction() as session:
        token = issue_feed_token(session, "Person1@Example.org")
        assert session.scalar(select(PersonalFeed.token_hash)) != token  # only the hash
    with db.session() as session:
        mine = personal_calendar(session, token, now=utcnow())
        assert [e.id for e in mine.events] == [event.id]
        assert mine.statuses == {event.id: "CONFIRMED"}
        with pytest.raises(NotFound):
            personal_calendar(session, token + "x", now=utcnow())
