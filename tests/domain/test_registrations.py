"""Registration rules: outcomes, duplicates, validation, approval, waitlist, tickets, holds.

The helpers at the top are shared with the concurrency and state-machine tests.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import Event, Registration, RegistrationLog, RegistrationStatus
from events.services.events import EventInput, EventService
from events.services.registrations import (
    Outcome,
    RegistrationInput,
    RegistrationResult,
    RegistrationService,
)
from events.tickets import (
    TICKET_ALPHABET,
    TICKET_CODE_BITS,
    TICKET_CODE_LENGTH,
    new_ticket_code,
    normalise_ticket_code,
    ticket_url,
)
from tests.factories import Factories

S = RegistrationStatus


# -- helpers (also used by the other registration test modules) ------------------------
def open_event(db: Database, make: Factories, *, capacity: str = "100", **settings: Any) -> Event:
    """A published event next year with ``capacity`` places and the given Event settings."""
    community = make.community()
    with db.transaction() as session:
        service = EventService(session)
        event = service.create(
            community,
            EventInput(
                title="Flat-share meetup",
                starts_local="2027-03-04T19:00",
                ends_local="2027-03-04T22:00",
                capacity=capacity,
            ),
        )
        service.publish(event)
        for name, value in settings.items():
            setattr(event, name, value)
    return event


def person(n: int | str = 1, **overrides: Any) -> RegistrationInput:
    values: dict[str, Any] = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "consent": "on",
        "locale": "fr",
    }
    values.update(overrides)
    return RegistrationInput(**values)


def register(db: Database, event: Event, data: RegistrationInput) -> RegistrationResult:
    with db.transaction() as session:
        return RegistrationService(session).register(session.get(Event, event.id), data)


def act(db: Database, registration_id: UUID, method: str, *args: Any) -> Any:
    """Call ``RegistrationService.<method>(registration, *args)`` in its own transaction."""
    with db.transaction() as session:
        registration = session.get(Registration, registration_id)
        return getattr(RegistrationService(session), method)(registration, *args)


def load_event(db: Database, event: Event) -> Event:
    with db.session() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        return loaded


def statuses(db: Database, event: Event) -> dict[str, RegistrationStatus]:
    with db.session() as session:
        rows = session.execute(
            select(Registration.email, Registration.status).where(Registration.event_id == event.id)
        )
        return {email: status for email, status in rows}


def counts(db: Database, event: Event) -> dict[str, int]:
    with db.session() as session:
        return RegistrationService(session).counts(load_event(db, event))


# -- outcomes ---------------------------------------------------------------------------
def test_a_registration_is_confirmed_with_a_ticket_at_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, guest_allowance=2)
    result = register(db, event, person(1, email=" Ada@Example.ORG ", guests="2", opt_in="on"))
    registration = result.registration
    assert result.outcome is Outcome.CONFIRMED
    assert registration.status is S.CONFIRMED
    assert registration.email == "ada@example.org"
    assert registration.guests == 2 and registration.people == 3
    assert registration.opt_in is True and registration.locale == "fr"
    assert registration.confirmed_at is not None and registration.consent_at is not None
    assert normalise_ticket_code(registration.ticket_code) == registration.ticket_code
    assert result.manage_token and registration.manage_token_hash != result.manage_token
    assert load_event(db, event).taken == 3
    with db.session() as session:
        service = RegistrationService(session)
        assert service.by_manage_token(result.manage_token).id == registration.id
        assert service.by_ticket_code(registration.ticket_code).id == registration.id
        url = ticket_url("https://meet.example.org/", registration.ticket_code or "")
        assert url == f"https://meet.example.org/t/{registration.ticket_code}"
        assert service.by_ticket_code(url.upper()).id == registration.id
        for bad in ("", "nope", None, "x" * 500):
            with pytest.raises(NotFound):
                service.by_ticket_code(bad)
            with pytest.raises(NotFound):
                service.by_manage_token(bad)


def test_the_audit_log_keeps_ids_not_names(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    registration = register(db, event, person(1, name="Zoé Secret")).registration
    act(db, registration.id, "cancel")
    with db.session() as session:
        logs = session.scalars(
            select(RegistrationLog).order_by(RegistrationLog.created_at, RegistrationLog.id)
        ).all()
    assert [log.action for log in logs] == ["registered", "cancelled"]
    assert all(log.registration_id == registration.id for log in logs)
    assert "Zoé" not in repr([log.detail for log in logs])
    assert "person1" not in repr([log.detail for log in logs])


def test_a_full_event_waitlists_in_order_of_arrival(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="2")
    outcomes = [register(db, event, person(n)).outcome for n in range(4)]
    assert outcomes == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    with db.session() as session:
        waiting = RegistrationService(session).attendees(load_event(db, event), status=S.WAITLISTED)
        assert [r.waitlist_position for r in waiting] == [1, 2]
        assert [RegistrationService(session).waitlist_rank(r) for r in waiting] == [1, 2]
        assert all(r.ticket_code is None for r in waiting)
    assert counts(db, event)["waitlist"] == 2


def test_a_full_event_without_waitlist_refuses(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1", waitlist_enabled=False)
    register(db, event, person(1))
    with pytest.raises(Conflict) as refused:
        register(db, event, person(2))
    assert refused.value.code == "event_full"
    assert counts(db, event)["confirmed"] == 1


def test_capacity_counts_guests(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="4", guest_allowance=3)
    assert register(db, event, person(1, guests="2")).outcome == "confirmed"  # 3 people
    assert register(db, event, person(2, guests="1")).outcome == "waitlisted"  # 2 > 1 free
    assert register(db, event, person(3)).outcome == "confirmed"  # the last place
    assert load_event(db, event).taken == 4


def test_an_unlimited_event_never_waitlists(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="")
    assert {register(db, event, person(n)).outcome for n in range(5)} == {"confirmed"}
    assert load_event(db, event).taken == 5


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": "draft"}, "registration_closed"),
        ({"status": "cancelled"}, "registration_closed"),
        ({"ends_at": utcnow() - timedelta(minutes=1)}, "registration_closed"),
    ],
)
def test_closed_events_refuse(
    db: Database, make: Factories, change: dict[str, Any], code: str
) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        for name, value in change.items():
            setattr(loaded, name, value)
        if "ends_at" in change:
            loaded.starts_at = change["ends_at"] - timedelta(hours=2)
    with pytest.raises(Conflict) as refused:
        register(db, event, person(1))
    assert refused.value.code == code
    assert counts(db, event)["registrations"] == 0


# -- duplicates -------------------------------------------------------------------------
def test_the_same_address_registers_once_case_insensitively(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1, email="Ada@Example.org"))
    again = register(db, event, person(1, email="  ADA@example.ORG", name="Someone else"))
    assert again.outcome is Outcome.DUPLICATE_RESENT and again.already_registered
    assert again.registration.id == first.registration.id
    assert again.registration.name == "Person 1"
    # The links are mailed again with a further link; the first one keeps working.
    assert again.manage_token and again.manage_token != first.manage_token
    with db.session() as session:
        service = RegistrationService(session)
        assert service.by_manage_token(again.manage_token).id == first.registration.id
        assert service.by_manage_token(first.manage_token).id == first.registration.id
    assert counts(db, event)["registrations"] == 1
    assert load_event(db, event).taken == 1


def test_a_cancelled_address_may_register_again(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1))
    act(db, first.registration.id, "cancel")
    second = register(db, event, person(1))
    assert second.outcome is Outcome.CONFIRMED
    assert second.registration.id != first.registration.id
    assert counts(db, event)["cancelled"] == 1 and counts(db, event)["confirmed"] == 1


def test_a_double_submit_is_replayed_not_duplicated(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1, request_key="nonce-123"))
    again = register(db, event, person(1, request_key="nonce-123"))
    assert again.outcome is Outcome.REPLAYED
    assert again.registration.id == first.registration.id
    assert again.manage_token is None  # nothing new to mail
    # Same form reused for someone else: a separate registration.
    other = register(db, event, person(2, request_key="nonce-123"))
    assert other.outcome is Outcome.CONFIRMED and other.registration.request_key is None
    assert counts(db, event)["registrations"] == 2


# -- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"name": ""}, {"name": "required"}),
        ({"name": "x" * 10_000}, {"name": "too_long"}),
        ({"name": "Ada\x00"}, {"name": "invalid_characters"}),
        ({"name": "Ada\r\nBcc: evil@example.org"}, {"name": "invalid_characters"}),
        ({"name": "Ada\nLovelace"}, {"name": "invalid_characters"}),
        ({"email": ""}, {"email": "required"}),
        ({"email": "not-an-address"}, {"email": "invalid_email"}),
        ({"email": "a@example.org\r\nBcc: x@example.org"}, {"email": "invalid_email"}),
        ({"email": "a" * 300 + "@example.org"}, {"email": "too_long"}),
        ({"guests": "3"}, {"guests": "out_of_range"}),
        ({"guests": "-1"}, {"guests": "out_of_range"}),
        ({"guests": "two"}, {"guests": "invalid_number"}),
        ({"consent": ""}, {"consent": "required"}),
        ({"consent": False, "name": ""}, {"consent": "required", "name": "required"}),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(
    db: Database, make: Factories, overrides: dict[str, Any], errors: dict[str, str]
) -> None:
    event = open_event(db, make, guest_allowance=2)
    with pytest.raises(ValidationFailed) as failed:
        register(db, event, person(1, **overrides))
    assert failed.value.errors == errors
    assert counts(db, event)["registrations"] == 0
    assert load_event(db, event).taken == 0


def test_emoji_and_accents_are_welcome(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    result = register(db, event, person(1, name="Zoë 🎉 Ñúñez", locale="not a locale!"))
    assert result.registration.name == "Zoë 🎉 Ñúñez"
    assert result.registration.locale == "en"


def test_guests_are_refused_when_the_event_allows_none(db: Database, make: Factories) -> None:
    event = open_event(db, make)  # guest_allowance defaults to 0
    with pytest.raises(ValidationFailed) as failed:
        register(db, event, person(1, guests=1))
    assert failed.value.errors == {"guests": "out_of_range"}


# -- approval ---------------------------------------------------------------------------
def test_approval_mode_holds_no_place_until_approved(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1", requires_approval=True)
    first = register(db, event, person(1))
    second = register(db, event, person(2))
    assert first.outcome is Outcome.PENDING_APPROVAL and second.outcome is Outcome.PENDING_APPROVAL
    assert load_event(db, event).taken == 0
    assert counts(db, event)["pending_approval"] == 2
    assert act(db, first.registration.id, "approve").status is S.CONFIRMED
    assert act(db, first.registration.id, "approve").status is S.CONFIRMED  # idempotent
    # Approving when full waitlists, never over capacity.
    approved = act(db, second.registration.id, "approve")
    assert approved.status is S.WAITLISTED and approved.waitlist_position == 1
    assert load_event(db, event).taken == 1
    # Declining the confirmed one frees its place: the waitlist is promoted.
    promoted = act(db, first.registration.id, "decline")
    assert [r.id for r in promoted] == [second.registration.id]
    assert statuses(db, event) == {
        "person1@example.org": S.DECLINED,
        "person2@example.org": S.CONFIRMED,
    }
    with pytest.raises(Conflict):
        act(db, first.registration.id, "approve")


def test_approving_when_full_without_waitlist_is_refused(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1", requires_approval=True, waitlist_enabled=False)
    first = register(db, event, person(1))
    second = register(db, event, person(2))
    act(db, first.registration.id, "approve")
    with pytest.raises(Conflict) as refused:
        act(db, second.registration.id, "approve")
    assert refused.value.code == "event_full"
    assert statuses(db, event)["person2@example.org"] is S.PENDING_APPROVAL
    act(db, second.registration.id, "decline")
    assert counts(db, event)["declined"] == 1 and load_event(db, event).taken == 1


# -- cancelling and promotion -------------------------------------------------------------
def test_cancelling_twice_frees_the_places_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="10", guest_allowance=2)
    registration = register(db, event, person(1, guests=2)).registration
    register(db, event, person(2))
    assert load_event(db, event).taken == 4
    act(db, registration.id, "cancel")
    assert act(db, registration.id, "cancel") == []
    assert load_event(db, event).taken == 1
    with pytest.raises(Conflict):
        act(db, registration.id, "change_guests", 1)


def test_promotion_skips_a_party_that_does_not_fit_until_it_does(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="4", guest_allowance=3)
    a = register(db, event, person("a")).registration  # 1 place
    b = register(db, event, person("b", guests=2)).registration  # 3 places: full
    big = register(db, event, person("big", guests=2)).registration  # waits: 3 places
    small = register(db, event, person("small")).registration  # waits: 1 place
    assert (big.waitlist_position, small.waitlist_position) == (1, 2)
    # One place frees: the big party does not fit, the small one behind it does.
    assert [r.id for r in act(db, a.id, "cancel")] == [small.id]
    assert statuses(db, event)["personbig@example.org"] is S.WAITLISTED
    with db.session() as session:
        assert RegistrationService(session).waitlist_rank(session.get(Registration, big.id)) == 1
    later = register(db, event, person("later")).registration
    assert later.status is S.WAITLISTED and later.waitlist_position == 3
    # Three places free: now the big party fits and goes first, ahead of "later".
    assert [r.id for r in act(db, b.id, "cancel")] == [big.id]
    with db.session() as session:
        promoted = session.get(Registration, big.id)
        assert promoted.status is S.CONFIRMED and promoted.ticket_code
        assert promoted.waitlist_position == 1  # kept, never renumbered
    assert statuses(db, event)["personlater@example.org"] is S.WAITLISTED
    assert load_event(db, event).taken == 4


def test_cancelling_a_waitlisted_party_frees_nothing(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    register(db, event, person(1))
    waiting = register(db, event, person(2)).registration
    assert act(db, waiting.id, "cancel") == []
    assert load_event(db, event).taken == 1
    assert counts(db, event)["cancelled"] == 1 and counts(db, event)["waitlist"] == 0


# -- guests -----------------------------------------------------------------------------
def test_changing_guests_respects_capacity_and_promotes(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="4", guest_allowance=3)
    a = register(db, event, person("a", guests=1)).registration  # 2
    register(db, event, person("b"))  # 3
    c = register(db, event, person("c", guests=1)).registration  # waits for 2
    with pytest.raises(ValidationFailed) as failed:
        act(db, a.id, "change_guests", "3")  # would need 2 more places, 1 free
    assert failed.value.errors == {"guests": "not_enough_places"}
    assert act(db, a.id, "change_guests", "2") == []  # the last free place
    assert load_event(db, event).taken == 4
    with pytest.raises(ValidationFailed):
        act(db, a.id, "change_guests", "9")
    # Shrinking frees two places: the waiting party of two is promoted.
    assert [r.id for r in act(db, a.id, "change_guests", 0)] == [c.id]
    assert load_event(db, event).taken == 4
    # A waiting party that shrinks may fit now.
    d = register(db, event, person("d", guests=1)).registration
    act(db, c.id, "change_guests", 0)
    assert statuses(db, event)["persond@example.org"] is S.WAITLISTED
    act(db, d.id, "change_guests", 0)
    assert statuses(db, event)["persond@example.org"] is S.CONFIRMED
    assert load_event(db, event).taken == 4


# -- capacity ---------------------------------------------------------------------------
def test_capacity_cannot_go_below_the_confirmed_people(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="5", guest_allowance=2)
    register(db, event, person(1, guests=2))
    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        RegistrationService(session).set_capacity(session.get(Event, event.id), "2")
    assert failed.value.errors == {"capacity": "below_confirmed"}
    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        RegistrationService(session).set_capacity(session.get(Event, event.id), "-1")
    assert failed.value.errors == {"capacity": "out_of_range"}
    with db.transaction() as session:
        RegistrationService(session).set_capacity(session.get(Event, event.id), 3)
    assert load_event(db, event).capacity == 3


def test_raising_capacity_promotes_in_order(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    register(db, event, person(1))
    waiting = [register(db, event, person(n)).registration for n in (2, 3, 4)]
    with db.transaction() as session:
        promoted = RegistrationService(session).set_capacity(session.get(Event, event.id), "3")
        assert [r.id for r in promoted] == [waiting[0].id, waiting[1].id]
    assert load_event(db, event).taken == 3
    with db.transaction() as session:
        promoted = RegistrationService(session).set_capacity(session.get(Event, event.id), "")
        assert [r.id for r in promoted] == [waiting[2].id]
    assert counts(db, event)["confirmed"] == 4 and load_event(db, event).capacity is None


def test_editing_an_event_applies_the_capacity_rules(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    register(db, event, person(1))
    waiting = register(db, event, person(2)).registration
    form = {"title": "Flat-share meetup", "starts_local": "2027-03-04T19:00"}
    form["ends_local"] = "2027-03-04T22:00"
    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        EventService(session).update(session.get(Event, event.id), EventInput(**form, capacity="0"))
    assert failed.value.errors == {"capacity": "below_confirmed"}
    with db.transaction() as session:
        EventService(session).update(session.get(Event, event.id), EventInput(**form, capacity="2"))
    assert statuses(db, event)[waiting.email] is S.CONFIRMED


# -- tickets ----------------------------------------------------------------------------
def test_ticket_codes_have_128_bits_and_no_look_alikes() -> None:
    assert TICKET_CODE_BITS >= 128
    assert not set("0o1il") & set(TICKET_ALPHABET)
    codes = {new_ticket_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(len(code) * math.log2(len(TICKET_ALPHABET)) >= 128 for code in codes)
    assert set("".join(codes)) == set(TICKET_ALPHABET)
    # Every letter at every position about as often as the others (161 expected of each:
    # a position drawn from part of the alphabet, or a letter favoured, falls outside).
    for position in range(TICKET_CODE_LENGTH):
        seen = Counter(code[position] for code in codes)
        assert set(seen) == set(TICKET_ALPHABET), position
        assert min(seen.values()) > 90 and max(seen.values()) < 240, (position, seen)


def test_tickets_are_unique_and_reissuing_rotates_the_code(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    registrations = [register(db, event, person(n)).registration for n in range(20)]
    codes = {r.ticket_code for r in registrations}
    assert len(codes) == 20 and None not in codes
    old = registrations[0].ticket_code
    new = act(db, registrations[0].id, "reissue_ticket")
    assert new != old
    with db.session() as session:
        service = RegistrationService(session)
        assert service.by_ticket_code(new).id == registrations[0].id
        with pytest.raises(NotFound):
            service.by_ticket_code(old)


# -- confirm the e-mail address first --------------------------------------------------
def test_confirm_email_first_holds_no_place_until_the_link_is_clicked(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="1", confirm_email_first=True)
    first = register(db, event, person(1))
    second = register(db, event, person(2))
    assert first.outcome is Outcome.PENDING_EMAIL and second.outcome is Outcome.PENDING_EMAIL
    assert first.registration.ticket_code is None
    assert load_event(db, event).taken == 0
    # The second to click gets the waitlist: places go in order of confirmation.
    with db.transaction() as session:
        confirmed = RegistrationService(session).confirm_email(second.manage_token or "")
        assert confirmed.outcome is Outcome.CONFIRMED
    with db.transaction() as session:
        service = RegistrationService(session)
        assert service.confirm_email(first.manage_token or "").outcome is Outcome.WAITLISTED
        assert service.confirm_email(first.manage_token or "").outcome is Outcome.WAITLISTED
    assert load_event(db, event).taken == 1


def test_confirm_email_first_answers_the_same_for_known_addresses(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, confirm_email_first=True)
    new = register(db, event, person(1))
    known = register(db, event, person(1, email="PERSON1@example.org"))
    unknown = register(db, event, person(2))
    # The visible answer is identical; only the caller learns which mail to send.
    assert new.outcome == known.outcome == unknown.outcome == Outcome.PENDING_EMAIL
    assert known.already_registered and not unknown.already_registered
    assert known.manage_token and known.registration.id == new.registration.id
    # A confirmed registrant trying again also gets "check your mail".
    with db.transaction() as session:
        RegistrationService(session).confirm_email(known.manage_token)
    again = register(db, event, person(1))
    assert again.outcome is Outcome.PENDING_EMAIL and again.already_registered
    assert again.registration.status is S.CONFIRMED
    assert counts(db, event)["registrations"] == 1 and counts(db, event)["pending_email"] == 1


def test_unconfirmed_holds_expire(db: Database, make: Factories) -> None:
    event = open_event(db, make, confirm_email_first=True)
    stale = register(db, event, person(1))
    fresh = register(db, event, person(2))
    later = utcnow() + timedelta(hours=25)
    with db.transaction() as session:
        registration = session.get(Registration, fresh.registration.id)
        registration.hold_expires_at = later + timedelta(hours=1)
    with db.transaction() as session:
        assert RegistrationService(session).expire_holds(later) == 1
        assert RegistrationService(session).expire_holds(later) == 0
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        RegistrationService(session).confirm_email(stale.manage_token or "")
    assert refused.value.code == "hold_expired"
    assert statuses(db, event)["person1@example.org"] is S.CANCELLED
    # The address may register again after its hold expired.
    assert register(db, event, person(1)).outcome is Outcome.PENDING_EMAIL
    assert counts(db, event)["pending_email"] == 2


def test_an_expired_hold_not_yet_swept_cannot_be_confirmed(db: Database, make: Factories) -> None:
    event = open_event(db, make, confirm_email_first=True)
    result = register(db, event, person(1))
    with db.transaction() as session:
        registration = session.get(Registration, result.registration.id)
        registration.hold_expires_at = utcnow() - timedelta(seconds=1)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        RegistrationService(session).confirm_email(result.manage_token or "")
    assert refused.value.code == "hold_expired"
    # Registering again refreshes the hold and mails a new link.
    again = register(db, event, person(1))
    assert again.outcome is Outcome.PENDING_EMAIL and again.manage_token != result.manage_token
    with db.transaction() as session:
        assert RegistrationService(session).confirm_email(again.manage_token or "").outcome == (
            Outcome.CONFIRMED
        )


def test_confirm_email_first_with_approval_waits_for_the_organiser(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, confirm_email_first=True, requires_approval=True)
    result = register(db, event, person(1))
    with db.transaction() as session:
        confirmed = RegistrationService(session).confirm_email(result.manage_token or "")
        assert confirmed.outcome is Outcome.PENDING_APPROVAL
    assert act(db, result.registration.id, "approve").status is S.CONFIRMED


def test_resend_links_adds_a_link_and_says_nothing_about_unknown_addresses(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1))
    with db.transaction() as session:
        service = RegistrationService(session)
        loaded = session.get(Event, event.id)
        assert service.resend_links(loaded, "nobody@example.org") is None
        assert service.resend_links(loaded, "not an address\r\n") is None
        resent = service.resend_links(loaded, "PERSON1@example.org")
        assert resent is not None and resent.registration.id == first.registration.id
        assert resent.manage_token and resent.manage_token != first.manage_token
        assert service.by_manage_token(first.manage_token).id == first.registration.id


def test_counts_add_up(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="4", guest_allowance=2)
    register(db, event, person(1, guests=2))
    register(db, event, person(2))
    register(db, event, person(3, guests=1))  # waits
    gone = register(db, event, person(4)).registration  # waits
    act(db, gone.id, "cancel")
    assert counts(db, event) == {
        "confirmed": 4,
        "registrations": 2,
        "guests": 2,
        "waitlist": 1,
        "waitlist_people": 2,
        "pending": 0,
        "pending_approval": 0,
        "pending_email": 0,
        "cancelled": 1,
        "declined": 0,
    }
    with db.session() as session:
        service = RegistrationService(session)
        loaded = load_event(db, event)
        assert [r.email for r in service.attendees(loaded, search="SON2")] == [
            "person2@example.org"
        ]
        assert service.attendees(loaded, search="%") == []
        total = session.scalar(select(func.count()).select_from(Registration))
        assert len(service.attendees(loaded)) == total == 4
