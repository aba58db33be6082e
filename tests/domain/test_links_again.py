"""Links mailed again (the registration form sent again with a registered address, or the
"resend my links" form): limited per address and per client, never breaking a link that
already works, never saying whether the address was known, with bounded link rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound, RateLimited
from events.models import Event, OutboxMessage, PersonalFeed, RegistrationLink, RegistrationLog
from events.services import personal_feeds
from events.services import registrations as registrations_module
from events.services.personal_feeds import store_feed_token
from events.services.registrations import LINKS_AGAIN_LIMIT, Outcome, RegistrationService
from events.tokens import new_token
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories


def logged(db: Database, action: str) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(RegistrationLog)
                .where(RegistrationLog.action == action)
            )
            or 0
        )


def mails_to(db: Database, address: str) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.to_address == address)
            )
            or 0
        )


def opens(db: Database, token: str | None) -> bool:
    with db.session() as session:
        try:
            RegistrationService(session).by_manage_token(token)
        except NotFound:
            return False
        return True


def test_the_form_sent_again_mails_the_links_a_limited_number_of_times(
    db: Database, make: Factories
) -> None:
    """The attack: 13 posts of the form with someone's address sent 13 mails and broke
    their private link each time."""
    event = open_event(db, make)
    first = register(db, event, person(1))
    mails_before = mails_to(db, "person1@example.org")
    answers = [
        register(db, event, person(1, client=f"client-{n}"))  # even from 13 clients
        for n in range(13)
    ]
    assert {(a.outcome, a.registration.id) for a in answers} == {
        (Outcome.DUPLICATE_RESENT, first.registration.id)
    }
    assert logged(db, "links_resent") == LINKS_AGAIN_LIMIT
    assert mails_to(db, "person1@example.org") - mails_before == LINKS_AGAIN_LIMIT
    # Every link ever mailed still opens the registration.
    assert opens(db, first.manage_token)
    assert all(opens(db, a.manage_token) for a in answers if a.manage_token)
    assert sum(1 for a in answers if a.manage_token) == LINKS_AGAIN_LIMIT


def test_one_client_cannot_have_many_addresses_mailed(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    people = range(LINKS_AGAIN_LIMIT + 2)
    for n in people:
        register(db, event, person(n))
    for n in people:
        register(db, event, person(n, client="one-client"))
    assert logged(db, "links_resent") == LINKS_AGAIN_LIMIT


def test_the_resend_form_limits_the_client_whatever_the_address(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        service = RegistrationService(session)
        for n in range(LINKS_AGAIN_LIMIT):
            service.resend_links(loaded, f"unknown{n}@example.org", client="probe")
        # The refusal comes whether or not the address is registered: it tells nothing.
        with pytest.raises(RateLimited):
            service.resend_links(loaded, "person1@example.org", client="probe")
        with pytest.raises(RateLimited):
            service.resend_links(loaded, "unknown@example.org", client="probe")


def test_the_resend_form_mails_one_address_a_limited_number_of_times(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        service = RegistrationService(session)
        results = [
            service.resend_links(loaded, "person1@example.org", client=f"c{n}") for n in range(9)
        ]
    assert sum(result is not None for result in results) == LINKS_AGAIN_LIMIT
    assert logged(db, "links_resent") == LINKS_AGAIN_LIMIT


def test_further_links_are_bounded_and_the_first_one_always_works(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registrations_module, "LINKS_AGAIN_LIMIT", 1000)
    event = open_event(db, make)
    first = register(db, event, person(1))
    tokens = []
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        service = RegistrationService(session)
        for _ in range(registrations_module.MAX_EXTRA_LINKS + 3):
            resent = service.resend_links(loaded, "person1@example.org")
            assert resent is not None
            tokens.append(resent.manage_token)
    with db.session() as session:
        kept = session.scalar(select(func.count()).select_from(RegistrationLink))
    assert kept == registrations_module.MAX_EXTRA_LINKS
    assert opens(db, first.manage_token)
    assert [opens(db, token) for token in tokens] == [False] * 3 + [True] * (len(tokens) - 3)


def test_erasing_stops_every_link(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1))
    again = register(db, event, person(1))
    with db.transaction() as session:
        service = RegistrationService(session)
        service.erase(service.by_manage_token(again.manage_token))
    assert not opens(db, first.manage_token) and not opens(db, again.manage_token)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RegistrationLink)) == 0


def test_feed_links_of_an_address_are_bounded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(personal_feeds, "MAX_FEED_LINKS", 5)
    tokens = [new_token() for _ in range(8)]
    with db.transaction() as session:
        for token in tokens:
            store_feed_token(session, "Ada@Example.org", token)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PersonalFeed)) == 5
        readable = []
        for token in tokens:
            try:
                personal_feeds.personal_calendar(session, token, now=utcnow())
                readable.append(True)
            except NotFound:
                readable.append(False)
    assert readable == [False] * 3 + [True] * 5  # the newest five
