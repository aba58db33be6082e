"""A registrant's "delete my data": ``RegistrationService.erase``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound
from events.models import Event, OutboxMessage, Registration, RegistrationLog, RegistrationStatus
from events.services.personal_data import ANONYMISED_NAME, is_anonymised
from events.services.personal_feeds import issue_feed_token, personal_calendar
from events.services.privacy import anonymise_past_registrations
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import (
    act,
    counts,
    load_event,
    open_event,
    person,
    register,
    statuses,
)
from tests.factories import Factories

S = RegistrationStatus


def reload(db: Database, registration: Registration) -> Registration:
    with db.session() as session:
        loaded = session.get(Registration, registration.id)
        assert loaded is not None
        return loaded


def end_event(db: Database, event: Event) -> None:
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        loaded.ends_at = utcnow() - timedelta(hours=1)
        loaded.starts_at = loaded.ends_at - timedelta(hours=3)


def test_erasing_a_confirmed_registration_cancels_it_and_forgets_the_person(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="2", guest_allowance=1)
    first = register(db, event, person(1, name="Zoé Secret", guests="1", opt_in="on"))
    waiting = register(db, event, person(2, guests="1"))
    assert waiting.outcome == "waitlisted"
    code = first.registration.ticket_code

    promoted = act(db, first.registration.id, "erase")

    assert [r.id for r in promoted] == [waiting.registration.id]
    erased = reload(db, first.registration)
    assert erased.status is S.CANCELLED and erased.cancelled_at is not None
    assert erased.name == ANONYMISED_NAME and is_anonymised(erased)
    assert "person1" not in erased.email
    assert erased.opt_in is False
    assert erased.ticket_code is None and erased.request_key is None
    assert erased.guests == 1  # the party size stays: it is not personal
    assert load_event(db, event).taken == 2  # the promoted party took the places
    with db.session() as session:
        service = RegistrationService(session)
        with pytest.raises(NotFound):
            service.by_manage_token(first.manage_token)
        with pytest.raises(NotFound):
            service.by_ticket_code(code)
        logs = session.scalars(
            select(RegistrationLog.action)
            .where(RegistrationLog.registration_id == erased.id)
            .order_by(RegistrationLog.created_at, RegistrationLog.id)
        ).all()
        details = session.scalars(select(RegistrationLog.detail)).all()
    assert list(logs) == ["registered", "cancelled", "erased"]
    assert "Zoé" not in repr(details) and "person1" not in repr(details)


@pytest.mark.parametrize("mode", ["waitlisted", "pending_approval", "pending_email"])
def test_erasing_a_registration_that_holds_no_place_frees_nothing(
    db: Database, make: Factories, mode: str
) -> None:
    settings = {
        "waitlisted": {"capacity": "1"},
        "pending_approval": {"requires_approval": True},
        "pending_email": {"confirm_email_first": True},
    }[mode]
    event = open_event(db, make, **settings)
    if mode == "waitlisted":
        register(db, event, person(0))
    result = register(db, event, person(1))
    assert result.outcome == mode
    taken = load_event(db, event).taken

    assert act(db, result.registration.id, "erase") == []

    erased = reload(db, result.registration)
    assert erased.status is S.CANCELLED and is_anonymised(erased)
    assert load_event(db, event).taken == taken


def test_after_the_event_the_party_still_counts_but_is_anonymous(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="10")
    first = register(db, event, person(1, guests=""))
    second = register(db, event, person(2))
    end_event(db, event)

    act(db, first.registration.id, "erase")
    act(db, second.registration.id, "erase")  # two anonymous parties: no unique clash

    assert load_event(db, event).taken == 2
    assert counts(db, event)["confirmed"] == 2
    for result in (first, second):
        erased = reload(db, result.registration)
        assert erased.status is S.CONFIRMED
        assert is_anonymised(erased) and erased.ticket_code is None
    assert "person1@example.org" not in statuses(db, event)
    # The periodic anonymisation later finds nothing left to do for these rows.
    with db.transaction() as session:
        assert anonymise_past_registrations(session, now=utcnow() + timedelta(days=365)) == 0


def test_the_address_may_register_again_after_erasing(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1))
    act(db, first.registration.id, "erase")

    again = register(db, event, person(1))

    assert again.outcome == "confirmed"
    assert again.registration.id != first.registration.id
    assert load_event(db, event).taken == 1


def test_erasing_twice_is_harmless(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    result = register(db, event, person(1))
    act(db, result.registration.id, "erase")
    assert act(db, result.registration.id, "erase") == []
    assert load_event(db, event).taken == 0


def test_erasing_leaves_no_mail_and_no_feed_link_for_the_address(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    registration = register(db, event, person(1)).registration
    with db.transaction() as session:
        token = issue_feed_token(session, registration.email)
    with db.session() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
        ).all()
        assert queued  # the confirmation is waiting in the outbox
    act(db, registration.id, "erase")
    with db.session() as session:
        left = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration.id)
        ).all()
        assert left == []  # neither the confirmation nor a cancellation receipt
        with pytest.raises(NotFound):
            personal_calendar(session, token, now=utcnow())
