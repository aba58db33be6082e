"""Signing up for a shift without a ticket: a name and an address, proven by the double
opt-in (``VolunteerService.ask_by_mail``, then events/services/confirmations.py's
``volunteer`` purpose). Only what the public page shows is checked before the click; every
rule of a sign-up is checked again at the click.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import (
    AddressConfirmation,
    DoorLink,
    Event,
    Registration,
    Shift,
    ShiftSignup,
    SignupStatus,
)
from events.services import confirmations
from events.services import volunteers as volunteers_module
from events.services.door_links import LinkState, link_state
from events.services.volunteers import ASK_LIMIT, VolunteerService
from tests.domain.test_door import scan
from tests.domain.test_registrations import open_event
from tests.domain.test_volunteers import add_role, add_shift, door_shift, sign_up, ticket
from tests.factories import Factories
from tests.mail.scenario import outbox
from tests.proposal_scenario import link_in_outbox


def ask(db: Database, shift: Shift, email: str, name: str = "Lou", **extra: str) -> None:
    with db.transaction() as session:
        VolunteerService(session).ask_by_mail(
            session.get(Shift, shift.id), name=name, email=email, locale="en", **extra
        )


def click(db: Database, email: str) -> confirmations.ConfirmationOutcome:
    with db.transaction() as session:
        return confirmations.confirm_address(
            session, link_in_outbox(db, email, "/c/").removeprefix("/c/")
        )


def signups(db: Database, shift: Shift) -> list[ShiftSignup]:
    with db.session() as session:
        return list(session.scalars(select(ShiftSignup).where(ShiftSignup.shift_id == shift.id)))


def test_the_click_signs_up_and_grants_the_door_link(db: Database, make: Factories) -> None:
    _event, shift = door_shift(db, make, needed="1")
    ask(db, shift, " Lou@Example.org ", name=" Lou ")
    # Nothing is taken before the click: only the confirmation is mailed.
    assert signups(db, shift) == []
    [mail] = outbox(db, to_address="lou@example.org")
    assert mail.kind == "confirm_address"
    assert "Confirm your volunteer shift at" in mail.subject
    assert "At the door, Thursday 4 March 2027, 18:30–20:00" in mail.text_body
    outcome = click(db, "lou@example.org")
    assert outcome.done == "volunteered" and outcome.error is None
    assert outcome.path.startswith("/v/")
    [signup] = signups(db, shift)
    assert (signup.name, signup.email) == ("Lou", "lou@example.org")
    assert signup.status is SignupStatus.CONFIRMED
    assert signup.registration_id is None
    # The sign-up mail carries the private page the click led to and the door link,
    # which works from 30 minutes before the shift.
    signed = outbox(db, to_address="lou@example.org", kind="volunteer_signed_up")
    assert len(signed) == 1 and outcome.path in signed[0].text_body
    with db.session() as session:
        [link] = session.scalars(select(DoorLink).where(DoorLink.shift_signup_id == signup.id))
        assert link_state(link, shift.starts_at) is LinkState.LIVE
    # A second click (the mail client's preview, a double click) signs up nobody twice.
    again = click(db, "lou@example.org")
    assert again.already and again.path.endswith("/volunteer")
    assert len(signups(db, shift)) == 1


def test_the_rules_are_checked_again_at_the_click(db: Database, make: Factories) -> None:
    """The shift filled between the mail and the click: the address is confirmed, the
    sign-up refused with its reason, nothing oversold."""
    event, shift = door_shift(db, make, needed="1")
    ask(db, shift, "late@example.org")
    sign_up(db, shift, ticket(db, event, 1))  # takes the only spot meanwhile
    outcome = click(db, "late@example.org")
    assert outcome.error == "shift_full"
    with db.session() as session:
        confirmed = session.scalar(select(AddressConfirmation.confirmed_at))
        assert confirmed is not None
        assert session.get(Shift, shift.id).taken == 1
    assert [s.email for s in signups(db, shift)] == ["person1@example.org"]


def test_asking_is_refused_only_for_what_the_page_shows(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, shift = door_shift(db, make, needed="1")
    with pytest.raises(ValidationFailed) as bad:
        ask(db, shift, "not an address", name="")
    assert bad.value.errors == {"name": "required", "email": "invalid_email"}
    # Someone already on the shift typing their address again gets a mail, not an
    # answer that would tell a stranger the address is on it; the click says so.
    sign_up(db, shift, ticket(db, event, 1))
    with pytest.raises(Conflict) as full:
        ask(db, shift, "other@example.org")  # full: the page shows it
    assert full.value.code == "shift_full"
    open_shift = add_shift(db, add_role(db, event, "welcome"), needed="3")
    ask(db, open_shift, "person1@example.org")
    sign_up(db, open_shift, ticket(db, event, 2))
    with db.transaction() as session:  # person1 got onto it with their ticket meanwhile
        VolunteerService(session).sign_up_with_ticket(
            session.get(Shift, open_shift.id),
            session.scalar(select(Registration).where(Registration.email == "person1@example.org")),
        )
    assert click(db, "person1@example.org").error == "already_signed_up"
    # A started shift takes nobody.
    monkeypatch.setattr(volunteers_module, "utcnow", lambda: open_shift.starts_at)
    with pytest.raises(Conflict) as started:
        ask(db, open_shift, "new@example.org")
    assert started.value.code == "shift_started"


def test_the_arrival_rule_is_told_only_after_the_click(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    shift = add_shift(db, add_role(db, event, "door"), requires_arrival="on", needed="3")
    ask(db, shift, "stranger@example.org")  # no answer about whether they ever came
    assert click(db, "stranger@example.org").error == "arrival_required"
    regular = ticket(db, event, 7)
    scan(db, event, regular.ticket_code)  # let in once: now they have come
    ask(db, shift, "person7@example.org", name="Regular")
    assert click(db, "person7@example.org").error is None
    assert [s.email for s in signups(db, shift)] == ["person7@example.org"]


def test_robots_and_floods_take_nothing(db: Database, make: Factories) -> None:
    _event, shift = door_shift(db, make, needed="5")
    ask(db, shift, "robot@example.org", trap="http://spam.example")
    assert outbox(db, to_address="robot@example.org") == []
    for _ in range(ASK_LIMIT.attempts):
        ask(db, shift, "flood@example.org", client="203.0.113.9")
    with pytest.raises(RateLimited):
        ask(db, shift, "flood@example.org", client="203.0.113.9")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ShiftSignup)) == 0


def test_another_community_s_shift_or_a_removed_one(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, needed="2")
    ask(db, shift, "gone@example.org")
    with db.transaction() as session:  # the organisers remove the shift meanwhile
        VolunteerService(session).remove_shift(session.get(Shift, shift.id))
    outcome = click(db, "gone@example.org")
    assert outcome.error == "shift_gone" and outcome.path.endswith("/volunteer")
    assert signups(db, shift) == []
    kept = add_shift(db, add_role(db, event, "welcome"))
    other = open_event(db, make)
    other_shift = add_shift(db, add_role(db, other, "welcome"))
    with db.session() as session:
        community = session.get(Event, event.id).community
        assert session.get(Event, other.id).community_id != community.id
        with pytest.raises(NotFound):
            VolunteerService(session).shift_in_community(community, other_shift.id)
        with pytest.raises(NotFound):
            VolunteerService(session).shift_in_community(community, "not-a-uuid")
        assert VolunteerService(session).shift_in_community(community, kept.id).event.id == event.id
