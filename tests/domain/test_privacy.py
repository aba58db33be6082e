"""Registrations are anonymised a set number of days after their event; the counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from events.database import Database
from events.errors import NotFound
from events.models import Event, Registration, RegistrationLog
from events.services.personal_data import ANONYMISED_NAME, is_anonymised
from events.services.privacy import DEFAULT_AFTER_DAYS, anonymise_past_registrations
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import (
    act,
    counts,
    load_event,
    open_event,
    person,
    register,
)
from tests.factories import Factories


def anonymise(db: Database, now: datetime, after_days: int = DEFAULT_AFTER_DAYS) -> int:
    with db.transaction() as session:
        return anonymise_past_registrations(session, now=now, after_days=after_days)


def rows(db: Database, event: Event) -> list[Registration]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Registration)
                .where(Registration.event_id == event.id)
                .order_by(Registration.created_at)
            )
        )


@pytest.fixture
def busy_event(db: Database, make: Factories) -> tuple[Event, dict[str, str]]:
    """2 places: one party of two confirmed, one waiting, one cancelled, one declined."""
    event = open_event(db, make, capacity="2", guest_allowance=1)
    tokens = {}
    for n, guests in ((1, "1"), (2, "0"), (3, "0"), (4, "0")):
        result = register(db, event, person(n, guests=guests, opt_in="on", name=f"Zoé {n}"))
        tokens[result.registration.email] = result.manage_token or ""
    by_email = {r.email: r for r in rows(db, event)}
    act(db, by_email["person3@example.org"].id, "cancel")
    act(db, by_email["person4@example.org"].id, "decline")
    return event, tokens


def test_nothing_happens_before_the_delay(
    db: Database, busy_event: tuple[Event, dict[str, str]]
) -> None:
    event, _tokens = busy_event
    before = [(r.name, r.email, r.ticket_code) for r in rows(db, event)]
    almost = event.ends_at + timedelta(days=DEFAULT_AFTER_DAYS) - timedelta(seconds=1)
    assert anonymise(db, almost) == 0
    assert [(r.name, r.email, r.ticket_code) for r in rows(db, event)] == before


def test_after_the_delay_only_the_counts_remain(
    db: Database, busy_event: tuple[Event, dict[str, str]]
) -> None:
    event, tokens = busy_event
    before_counts = counts(db, event)
    before = {
        r.id: (r.status, r.guests, r.waitlist_position, r.created_at) for r in rows(db, event)
    }
    taken = load_event(db, event).taken

    assert anonymise(db, event.ends_at + timedelta(days=DEFAULT_AFTER_DAYS)) == 4

    after = rows(db, event)
    assert {r.id: (r.status, r.guests, r.waitlist_position, r.created_at) for r in after} == before
    assert counts(db, event) == before_counts
    assert load_event(db, event).taken == taken
    for registration in after:
        assert is_anonymised(registration)
        assert registration.name == ANONYMISED_NAME
        assert registration.email.endswith("@anonymised.invalid")
        assert registration.ticket_code is None
        assert registration.request_key is None
        assert registration.opt_in is False
    assert len({r.email for r in after}) == len(after)  # unique per row: the index holds
    dump = repr([(r.name, r.email, r.manage_token_hash) for r in after])
    assert "Zoé" not in dump and "person" not in dump
    with db.session() as session:
        service = RegistrationService(session)
        for token in tokens.values():
            with pytest.raises(NotFound):
                service.by_manage_token(token)
        logged = session.scalars(
            select(RegistrationLog.action).where(RegistrationLog.event_id == event.id)
        ).all()
    assert logged.count("anonymised") == 4


def test_it_is_idempotent(db: Database, busy_event: tuple[Event, dict[str, str]]) -> None:
    event, _tokens = busy_event
    later = event.ends_at + timedelta(days=365)
    assert anonymise(db, later) == 4
    first = [(r.name, r.email, r.manage_token_hash) for r in rows(db, event)]
    assert anonymise(db, later) == 0
    assert anonymise(db, later + timedelta(days=30)) == 0
    assert [(r.name, r.email, r.manage_token_hash) for r in rows(db, event)] == first


def test_the_delay_is_configurable_and_other_events_are_untouched(
    db: Database, make: Factories
) -> None:
    past = open_event(db, make)
    register(db, past, person(1))
    future = open_event(db, make)
    with db.transaction() as session:
        later = session.get(Event, future.id)
        assert later is not None
        later.starts_at += timedelta(days=30)
        later.ends_at += timedelta(days=30)
    register(db, future, person(1))  # the same person, at another event

    now = past.ends_at + timedelta(days=7)
    assert anonymise(db, now, after_days=30) == 0
    assert anonymise(db, now, after_days=7) == 1
    assert all(is_anonymised(r) for r in rows(db, past))
    assert [r.email for r in rows(db, future)] == ["person1@example.org"]
    # The address is free again at the old event too (nothing unique left behind).
    assert counts(db, past)["confirmed"] == 1


def test_a_lookalike_address_does_not_escape_anonymisation(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    register(db, event, person(1, email="x@anonymised.invalid", name="Real Name"))
    assert anonymise(db, event.ends_at + timedelta(days=90)) == 1
    (registration,) = rows(db, event)
    assert is_anonymised(registration) and registration.name == ANONYMISED_NAME
