"""An event's registration settings (waitlist, approval, guests, e-mail confirmation) as
the organiser's form sets them, and the registration queries and actions behind the
organiser's attendee list (paging, ranks, moving one party off the waitlist)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select, update

from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import Event, RegistrationStatus
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.registrations import Outcome, RegistrationService
from tests.domain.test_registrations import act, load_event, open_event, person, register
from tests.factories import Factories

S = RegistrationStatus
BASE = {
    "title": "Flat-share meetup",
    "starts_local": "2027-03-04T19:00",
    "ends_local": "2027-03-04T22:00",
    "capacity": "10",
}


def create(db: Database, make: Factories, **overrides: Any) -> Event:
    community = make.community()
    with db.transaction() as session:
        fresh = CommunityService(session).by_slug(community.slug)
        return EventService(session).create(fresh, EventInput(**{**BASE, **overrides}))


def update_event(db: Database, event: Event, **overrides: Any) -> Event:
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        return EventService(session).update(stored, EventInput(**{**BASE, **overrides}))


def settings_of(db: Database, event: Event) -> tuple[bool, bool, int, bool]:
    loaded = load_event(db, event)
    return (
        loaded.waitlist_enabled,
        loaded.requires_approval,
        loaded.guest_allowance,
        loaded.confirm_email_first,
    )


# -- the settings -------------------------------------------------------------------------
def test_defaults_when_not_given(db: Database, make: Factories) -> None:
    event = create(db, make)
    assert settings_of(db, event) == (True, False, 0, False)


def test_create_with_every_setting(db: Database, make: Factories) -> None:
    event = create(
        db,
        make,
        waitlist_enabled="",
        requires_approval="on",
        guest_allowance="3",
        confirm_email_first="on",
    )
    assert settings_of(db, event) == (False, True, 3, True)


def test_update_sets_and_clears_them(db: Database, make: Factories) -> None:
    event = create(db, make)
    update_event(db, event, waitlist_enabled="", requires_approval="on", guest_allowance="20")
    assert settings_of(db, event) == (False, True, 20, False)
    update_event(
        db,
        event,
        waitlist_enabled="on",
        requires_approval="",
        guest_allowance="",
        confirm_email_first="on",
    )
    assert settings_of(db, event) == (True, False, 0, True)


def test_an_update_without_them_leaves_them_alone(db: Database, make: Factories) -> None:
    event = create(db, make, waitlist_enabled="", requires_approval="on", guest_allowance="2")
    update_event(db, event, title="Renamed")
    assert settings_of(db, event) == (False, True, 2, False)
    assert load_event(db, event).title == "Renamed"


def test_booleans_are_accepted_too(db: Database, make: Factories) -> None:
    event = create(db, make, waitlist_enabled=False, requires_approval=True, guest_allowance=1)
    assert settings_of(db, event) == (False, True, 1, False)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("guest_allowance", "21", "out_of_range"),
        ("guest_allowance", "-1", "out_of_range"),
        ("guest_allowance", "two", "invalid_number"),
        ("waitlist_enabled", "maybe", "invalid_choice"),
        ("requires_approval", "<script>", "invalid_choice"),
        ("confirm_email_first", "2", "invalid_choice"),
    ],
)
def test_invalid_values_are_refused(
    db: Database, make: Factories, field: str, value: str, code: str
) -> None:
    community = make.community()
    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        fresh = CommunityService(session).by_slug(community.slug)
        EventService(session).create(fresh, EventInput(**{**BASE, field: value}))
    assert refused.value.errors == {field: code}


def test_all_errors_come_at_once(db: Database, make: Factories) -> None:
    community = make.community()
    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        fresh = CommunityService(session).by_slug(community.slug)
        EventService(session).create(
            fresh,
            EventInput(**{**BASE, "title": "", "guest_allowance": "99", "waitlist_enabled": "x"}),
        )
    assert refused.value.errors == {
        "title": "required",
        "guest_allowance": "out_of_range",
        "waitlist_enabled": "invalid_choice",
    }


def test_checkbox_values_are_case_and_space_tolerant(db: Database, make: Factories) -> None:
    event = create(db, make, waitlist_enabled=" ON ", requires_approval="true")
    assert settings_of(db, event)[:2] == (True, True)


def test_duplicate_copies_them(db: Database, make: Factories) -> None:
    event = create(
        db,
        make,
        waitlist_enabled="",
        requires_approval="on",
        guest_allowance="4",
        confirm_email_first="on",
    )
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        copy = EventService(session).duplicate(stored)
    assert settings_of(db, copy) == (False, True, 4, True)
    assert load_event(db, copy).taken == 0


def test_the_settings_rule_registration(db: Database, make: Factories) -> None:
    no_waitlist = open_event(db, make, capacity="1")
    update_event(db, no_waitlist, capacity="1", waitlist_enabled="")
    assert register(db, no_waitlist, person(1)).outcome is Outcome.CONFIRMED
    with pytest.raises(Conflict) as full:
        register(db, no_waitlist, person(2))
    assert full.value.code == "event_full"

    approval = open_event(db, make)
    update_event(db, approval, requires_approval="on", guest_allowance="1")
    result = register(db, approval, person(3, guests="1"))
    assert result.outcome is Outcome.PENDING_APPROVAL
    with pytest.raises(ValidationFailed) as too_many:
        register(db, approval, person(4, guests="2"))
    assert too_many.value.errors == {"guests": "out_of_range"}


def test_capacity_below_the_confirmed_people_is_refused_and_nothing_changes(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="10")
    for n in range(3):
        register(db, event, person(n))
    with pytest.raises(ValidationFailed) as refused:
        update_event(db, event, capacity="2", requires_approval="on", title="Changed")
    assert refused.value.errors == {"capacity": "below_confirmed"}
    loaded = load_event(db, event)
    assert (loaded.capacity, loaded.requires_approval, loaded.title) == (10, False, BASE["title"])


# -- the attendee list's queries -----------------------------------------------------------
def test_attendees_page_by_page_in_order_of_registration(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="3")
    for n in range(7):
        register(db, event, person(n))
    with db.session() as session:
        service = RegistrationService(session)
        loaded = load_event(db, event)
        everyone = [r.email for r in service.attendees(loaded)]
        assert everyone == [f"person{n}@example.org" for n in range(7)]
        first = service.attendees(loaded, offset=0, limit=3)
        second = service.attendees(loaded, offset=3, limit=3)
        last = service.attendees(loaded, offset=6, limit=3)
        assert [r.email for r in first + second + last] == everyone
        assert service.count_attendees(loaded) == 7
        assert service.count_attendees(loaded, status=S.WAITLISTED) == 4
        assert service.count_attendees(loaded, search="person6") == 1
        assert service.count_attendees(loaded, status=S.CONFIRMED, search="person6") == 0


def test_waitlist_ranks_count_only_those_still_waiting(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    ids = [register(db, event, person(n)).registration.id for n in range(4)]
    act(db, ids[2], "cancel")  # left the line: the ones behind move up
    with db.session() as session:
        ranks = RegistrationService(session).waitlist_ranks(load_event(db, event))
    assert ranks == {ids[1]: 1, ids[3]: 2}


def test_a_registration_is_found_only_in_its_own_event(db: Database, make: Factories) -> None:
    first = open_event(db, make)
    second = open_event(db, make)
    registration = register(db, first, person(1)).registration
    with db.session() as session:
        service = RegistrationService(session)
        assert service.in_event(load_event(db, first), registration.id).id == registration.id
        with pytest.raises(NotFound):
            service.in_event(load_event(db, second), registration.id)
        with pytest.raises(NotFound):
            service.in_event(load_event(db, first), uuid4())


# -- moving one party off the waitlist ------------------------------------------------------
def test_promote_refuses_a_party_that_does_not_fit(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="2", guest_allowance=2)
    register(db, event, person(1))
    big = register(db, event, person(2, guests="2")).registration  # 3 people, 1 free place
    assert big.status is S.WAITLISTED
    with pytest.raises(Conflict) as refused:
        act(db, big.id, "promote")
    assert refused.value.code == "not_enough_free_places"
    assert load_event(db, event).taken == 1


def test_promote_confirms_a_waiting_party_that_fits_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1", guest_allowance=1)
    register(db, event, person(1))
    waiting = register(db, event, person(2, guests="1")).registration
    # Places appear without the registration rules running (say a manual fix in the
    # database): the party fits now, and the organiser moves it up.
    with db.transaction() as session:
        session.execute(update(Event).where(Event.id == event.id).values(capacity=5))
    promoted = act(db, waiting.id, "promote")
    assert promoted.status is S.CONFIRMED and promoted.ticket_code
    assert load_event(db, event).taken == 3
    again = act(db, waiting.id, "promote")  # a double submit changes nothing
    assert again.status is S.CONFIRMED
    assert load_event(db, event).taken == 3


def test_promote_only_applies_to_waiting_parties(db: Database, make: Factories) -> None:
    event = open_event(db, make, requires_approval=True)
    pending = register(db, event, person(1)).registration
    with pytest.raises(Conflict) as refused:
        act(db, pending.id, "promote")
    assert refused.value.code == "registration_not_waitlisted"


# -- the demo ---------------------------------------------------------------------------------
def test_the_demo_has_events_open_for_registration_and_is_seeded_once(db: Database) -> None:
    with db.transaction() as session:
        assert seed_demo(session, today=today_in_paris(), password="demo-password").created
    with db.transaction() as session:
        assert not seed_demo(session, today=today_in_paris()).created
    with db.session() as session:
        service = RegistrationService(session)
        by_title = {
            event.title: (event, service.counts(event))
            for event in session.scalars(select(Event).where(Event.taken > 0))
        }
        repair, repair_counts = by_title["Atelier réparation vélo & café"]
        assert (repair.capacity, repair.taken) == (30, 28)
        assert repair_counts["confirmed"] == 28 and repair_counts["waitlist"] == 3
        dinner, dinner_counts = by_title["Dîner des porteurs de projets"]
        assert dinner.requires_approval
        assert dinner_counts["pending_approval"] == 4 and dinner_counts["confirmed"] == 2
        confirmed = service.attendees(repair, status=S.CONFIRMED)
        assert confirmed and all(r.ticket_code for r in confirmed)
