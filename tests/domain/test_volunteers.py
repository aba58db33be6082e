"""Volunteer roles, shifts and sign-ups (events/services/volunteers.py): validation, the
rules of signing up, the door link a door shift grants and its window, mails, copies to a
series, anonymisation. The helpers at the top are shared with the other volunteer tests.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.jobs.shift_reminders import queue_shift_reminders
from events.models import (
    DoorLink,
    Event,
    OutboxMessage,
    Registration,
    RoleKind,
    Series,
    Shift,
    ShiftSignup,
    SignupStatus,
    VolunteerRole,
)
from events.private_links import mask_private_links
from events.services import volunteers as volunteers_module
from events.services.door_links import DoorLinkService, LinkState, is_live, link_state
from events.services.privacy import anonymise_past_registrations
from events.services.registrations import RegistrationService
from events.services.volunteers import (
    RoleInput,
    ShiftInput,
    SignupResult,
    VolunteerService,
    has_arrived_before,
)
from tests.domain.test_door import scan
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.mail.scenario import outbox

ORGANISER = uuid4()


# -- helpers ----------------------------------------------------------------------------
def add_role(db: Database, event: Event, kind: str = "door", **values: Any) -> VolunteerRole:
    with db.transaction() as session:
        return VolunteerService(session).add_role(
            session.get(Event, event.id), RoleInput(kind=kind, **values)
        )


def add_shift(
    db: Database,
    role: VolunteerRole,
    *,
    starts: str = "2027-03-04T18:30",
    ends: str = "2027-03-04T20:00",
    needed: str = "2",
    requires_arrival: str = "",
) -> Shift:
    with db.transaction() as session:
        return VolunteerService(session).add_shift(
            session.get(VolunteerRole, role.id),
            ShiftInput(
                starts_local=starts,
                ends_local=ends,
                needed=needed,
                requires_arrival=requires_arrival,
            ),
            created_by=ORGANISER,
        )


def door_shift(db: Database, make: Factories, **shift: Any) -> tuple[Event, Shift]:
    """An open event (4 March 2027, 19:00–22:00 Paris) with a door role and one shift."""
    event = open_event(db, make)
    role = add_role(db, event, "door")
    return event, add_shift(db, role, **shift)


def ticket(db: Database, event: Event, n: int | str = 1) -> Registration:
    return register(db, event, person(n)).registration


def sign_up(db: Database, shift: Shift, registration: Registration) -> SignupResult:
    with db.transaction() as session:
        return VolunteerService(session).sign_up_with_ticket(
            session.get(Shift, shift.id), session.get(Registration, registration.id)
        )


def volunteer(db: Database, method: str, signup: ShiftSignup) -> Any:
    with db.transaction() as session:
        return getattr(VolunteerService(session), method)(session.get(ShiftSignup, signup.id))


def load(db: Database, model: Any, row_id: UUID) -> Any:
    with db.session() as session:
        found = session.get(model, row_id)
        assert found is not None
        session.expunge(found)
        return found


def door_links(db: Database, signup: ShiftSignup) -> list[DoorLink]:
    with db.session() as session:
        return list(session.scalars(select(DoorLink).where(DoorLink.shift_signup_id == signup.id)))


# -- roles and shifts -------------------------------------------------------------------
def test_roles_of_each_kind_and_their_names(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    welcome = add_role(db, event, "welcome")
    custom = add_role(db, event, "custom", name_en="Cloakroom", name_fr="Vestiaire")
    only_fr = add_role(db, event, "custom", name_fr="Bar")
    assert (welcome.position, custom.position, only_fr.position) == (0, 1, 2)
    assert welcome.door_lead_minutes == 30
    assert welcome.name_in("en", lambda text: text) == "Welcome desk"
    assert welcome.name_in("fr", lambda text: f"fr:{text}") == "fr:Welcome desk"
    assert custom.name_in("fr", str) == "Vestiaire" and custom.name_in("en", str) == "Cloakroom"
    assert only_fr.name_in("en", str) == "Bar"  # the other language rather than nothing


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"kind": "juggler"}, {"kind": "invalid_choice"}),
        ({"kind": "custom"}, {"name_en": "role_name_required"}),
        ({"kind": "door", "door_lead_minutes": "-5"}, {"door_lead_minutes": "out_of_range"}),
        ({"kind": "door", "door_lead_minutes": "many"}, {"door_lead_minutes": "invalid_number"}),
        ({"kind": "custom", "name_en": "x" * 81}, {"name_en": "too_long"}),
        ({"kind": "welcome", "name_fr": "Ac\x00cueil"}, {"name_fr": "invalid_characters"}),
    ],
)
def test_a_role_refuses_bad_input(
    db: Database, make: Factories, values: dict[str, str], errors: dict[str, str]
) -> None:
    event = open_event(db, make)
    kind = values.pop("kind")
    with pytest.raises(ValidationFailed) as refused:
        add_role(db, event, kind, **values)
    assert refused.value.errors == errors


def test_a_shift_is_read_in_the_event_time_zone(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, starts="2027-03-04T18:30", ends="2027-03-04T20:00")
    # Paris is UTC+1 in March 2027.
    assert shift.starts_at.isoformat() == "2027-03-04T17:30:00+00:00"
    assert shift.ends_at.isoformat() == "2027-03-04T19:00:00+00:00"
    assert (shift.needed, shift.taken, shift.requires_arrival) == (2, 0, False)
    assert shift.event_id == event.id


@pytest.mark.parametrize(
    ("shift", "errors"),
    [
        ({"needed": "0"}, {"needed": "out_of_range"}),
        ({"needed": ""}, {"needed": "required"}),
        ({"ends": "2027-03-04T18:00"}, {"ends_local": "ends_before_start"}),
        (
            {"starts": "2027-03-10T18:00", "ends": "2027-03-10T19:00"},
            {"starts_local": "shift_outside_event"},
        ),
        ({"starts": "not a time"}, {"starts_local": "invalid_datetime"}),
    ],
)
def test_a_shift_refuses_bad_input(
    db: Database, make: Factories, shift: dict[str, str], errors: dict[str, str]
) -> None:
    event = open_event(db, make)
    role = add_role(db, event)
    with pytest.raises(ValidationFailed) as refused:
        add_shift(db, role, **shift)
    assert refused.value.errors == errors


def test_needed_cannot_go_below_the_people_signed_up(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, needed="2")
    sign_up(db, shift, ticket(db, event, 1))
    sign_up(db, shift, ticket(db, event, 2))
    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        VolunteerService(session).update_shift(
            session.get(Shift, shift.id),
            ShiftInput(starts_local="2027-03-04T18:30", ends_local="2027-03-04T20:00", needed="1"),
        )
    assert refused.value.errors == {"needed": "below_signed_up"}


def test_roles_and_shifts_with_people_are_not_removed(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    result = sign_up(db, shift, ticket(db, event))
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        VolunteerService(session).remove_shift(session.get(Shift, shift.id))
    assert refused.value.code == "shift_has_volunteers"
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        VolunteerService(session).remove_role(session.get(VolunteerRole, shift.role_id))
    assert refused.value.code == "role_has_volunteers"
    volunteer(db, "remove_signup", result.signup)
    with db.transaction() as session:
        VolunteerService(session).remove_role(session.get(VolunteerRole, shift.role_id))
    with db.session() as session:
        assert session.scalars(select(Shift)).all() == []


# -- signing up -------------------------------------------------------------------------
def test_a_ticket_holder_signs_up_and_is_confirmed_at_once(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    shift = add_shift(db, add_role(db, event, "welcome"))
    registration = ticket(db, event)
    result = sign_up(db, shift, registration)
    signup = result.signup
    assert signup.status is SignupStatus.CONFIRMED and signup.confirmed_at is not None
    assert (signup.name, signup.email, signup.registration_id) == (
        registration.name,
        registration.email,
        registration.id,
    )
    assert result.door_token is None  # not a door shift
    assert load(db, Shift, shift.id).taken == 1
    with db.session() as session:
        assert VolunteerService(session).by_manage_token(result.token).id == signup.id
        views = VolunteerService(session).roles(session.get(Event, event.id))
    assert [(v.shift.id, v.signed_up, v.confirmed, v.free) for v in views[0].shifts] == [
        (shift.id, 1, 1, 1)
    ]


def test_signing_up_twice_or_for_a_full_shift_is_refused(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, needed="1")
    first = ticket(db, event, 1)
    sign_up(db, shift, first)
    with pytest.raises(Conflict) as twice:
        sign_up(db, shift, first)
    assert twice.value.code == "already_signed_up"
    with pytest.raises(Conflict) as full:
        sign_up(db, shift, ticket(db, event, 2))
    assert full.value.code == "shift_full"
    assert load(db, Shift, shift.id).taken == 1


def test_only_a_confirmed_ticket_of_the_same_event_signs_up(db: Database, make: Factories) -> None:
    _event, shift = door_shift(db, make)
    other_event = open_event(db, make)
    with pytest.raises(NotFound):
        sign_up(db, shift, ticket(db, other_event))
    waiting = open_event(db, make, capacity="0")
    waiting_shift = add_shift(db, add_role(db, waiting))
    with pytest.raises(Conflict) as no_ticket:
        sign_up(db, waiting_shift, ticket(db, waiting))  # on the waitlist: no ticket
    assert no_ticket.value.code == "no_ticket"


def test_no_sign_up_once_the_shift_started(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, shift = door_shift(db, make)
    registration = ticket(db, event)
    monkeypatch.setattr(volunteers_module, "utcnow", lambda: shift.starts_at)
    with pytest.raises(Conflict) as started:
        sign_up(db, shift, registration)
    assert started.value.code == "shift_started"


def test_the_arrival_rule(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    shift = add_shift(db, add_role(db, event), requires_arrival="on")
    newcomer = ticket(db, event, 1)
    with pytest.raises(Conflict) as refused:
        sign_up(db, shift, newcomer)
    assert refused.value.code == "arrival_required"
    # Someone checked in at an earlier event of the same community may.
    with db.session() as session:
        community_id = session.get(Event, event.id).community_id
    earlier = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, earlier.id).community_id = community_id
    regular = ticket(db, earlier, 2)
    scan(db, earlier, regular.ticket_code)
    with db.session() as session:
        assert has_arrived_before(session, session.get(Event, event.id), "person2@example.org")
    assert sign_up(db, shift, ticket(db, event, 2)).signup.status is SignupStatus.CONFIRMED


def test_cancelling_frees_the_spot_and_mails_a_receipt(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, needed="1")
    result = sign_up(db, shift, ticket(db, event, 1))
    volunteer(db, "cancel", result.signup)
    volunteer(db, "cancel", result.signup)  # twice: nothing more
    assert load(db, ShiftSignup, result.signup.id).status is SignupStatus.CANCELLED
    assert load(db, Shift, shift.id).taken == 0
    assert sign_up(db, shift, ticket(db, event, 2)).signup.status is SignupStatus.CONFIRMED
    kinds = [m.kind for m in outbox(db, to_address="person1@example.org")]
    assert kinds == ["confirmed", "volunteer_signed_up", "volunteer_cancelled"]


def test_an_organiser_assigns_and_removes(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    shift = add_shift(db, add_role(db, event, "setup"))
    with db.transaction() as session:
        result = VolunteerService(session).assign(
            session.get(Shift, shift.id),
            name=" Sam ",
            email="Sam@Example.org",
            locale="fr",
            actor_id=ORGANISER,
        )
    signup = result.signup
    assert (signup.name, signup.email, signup.locale) == ("Sam", "sam@example.org", "fr")
    assert signup.assigned_by == ORGANISER and signup.status is SignupStatus.CONFIRMED
    with db.transaction() as session, pytest.raises(ValidationFailed) as bad:
        VolunteerService(session).assign(
            session.get(Shift, shift.id), name="", email="nope", locale="en", actor_id=ORGANISER
        )
    assert bad.value.errors == {"name": "required", "email": "invalid_email"}
    volunteer(db, "remove_signup", signup)
    assert load(db, Shift, shift.id).taken == 0
    kinds = [m.kind for m in outbox(db, to_address="sam@example.org")]
    assert kinds == ["volunteer_signed_up", "volunteer_removed"]
    removed = outbox(db, kind="volunteer_removed")[0]
    assert "Bonjour Sam" in removed.text_body  # in the volunteer's language


# -- door shifts ------------------------------------------------------------------------
def test_a_door_shift_grants_a_link_from_30_minutes_before_to_its_end(
    db: Database, make: Factories
) -> None:
    event, shift = door_shift(db, make, starts="2027-03-04T18:30", ends="2027-03-04T20:00")
    result = sign_up(db, shift, ticket(db, event))
    assert result.door_token
    [link] = door_links(db, result.signup)
    assert link.event_id == event.id and link.created_by == ORGANISER
    assert link.valid_from == shift.starts_at - timedelta(minutes=30)
    assert link.expires_at == shift.ends_at
    with db.session() as session:
        assert DoorLinkService(session).resolve(result.door_token, now=utcnow()).id == link.id
    opens = link.valid_from
    assert link_state(link, opens - timedelta(minutes=1)) is LinkState.NOT_YET  # before
    assert link_state(link, opens) is LinkState.LIVE  # during
    assert is_live(link, shift.ends_at - timedelta(seconds=1))
    assert link_state(link, shift.ends_at) is LinkState.EXPIRED  # after
    # The mail carries it, with the time it starts working.
    mail = outbox(db, kind="volunteer_signed_up")[0]
    assert f"/door/{event.slug}/link/{result.door_token}" in mail.text_body
    assert f"/v/{result.token}" in mail.text_body
    assert "18:00" in mail.text_body  # the link's start, in the event's time zone
    # Once sent, the organisers' outbox page shows neither link.
    shown = mask_private_links(mail.text_body)
    assert result.door_token not in shown and result.token not in shown


def test_cancelling_a_door_shift_revokes_its_link(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    result = sign_up(db, shift, ticket(db, event))
    volunteer(db, "cancel", result.signup)
    [link] = door_links(db, result.signup)
    assert link_state(link, link.valid_from + timedelta(minutes=5)) is LinkState.REVOKED
    with db.session() as session, pytest.raises(NotFound):
        DoorLinkService(session).resolve(result.door_token, now=utcnow())


def test_a_moved_door_shift_moves_its_link(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    result = sign_up(db, shift, ticket(db, event))
    with db.transaction() as session:
        VolunteerService(session).update_shift(
            session.get(Shift, shift.id),
            ShiftInput(starts_local="2027-03-04T20:00", ends_local="2027-03-04T22:00", needed="2"),
        )
    [link] = door_links(db, result.signup)
    moved = load(db, Shift, shift.id)
    assert (link.valid_from, link.expires_at) == (
        moved.starts_at - timedelta(minutes=30),
        moved.ends_at,
    )


def test_the_door_lead_time_is_the_role_s(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    shift = add_shift(db, add_role(db, event, "door", door_lead_minutes="0"))
    result = sign_up(db, shift, ticket(db, event))
    [link] = door_links(db, result.signup)
    assert link.valid_from == shift.starts_at


def test_a_door_link_window_must_be_a_window(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    soon = utcnow() + timedelta(hours=1)
    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        DoorLinkService(session).create(
            session.get(Event, event.id),
            label="x",
            created_by=ORGANISER,
            valid_from=soon,
            expires_at=soon,
        )
    assert refused.value.errors == {"valid_from": "ends_before_start"}


# -- series, community ------------------------------------------------------------------
def test_open_shifts_of_a_community(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make, needed="1")
    other = add_shift(
        db, add_role(db, event, "tidyup"), starts="2027-03-04T22:00", ends="2027-03-04T23:00"
    )
    with db.session() as session:
        community = session.get(Event, event.id).community
        found = VolunteerService(session).open_shifts(community)
        assert [item.shift.id for item in found] == [shift.id, other.id]
    sign_up(db, shift, ticket(db, event))  # now full
    with db.session() as session:
        found = VolunteerService(session).open_shifts(session.get(Event, event.id).community)
        assert [item.shift.id for item in found] == [other.id]


def test_my_shifts_are_those_of_my_address_in_the_community(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    later = add_shift(
        db, add_role(db, event, "tidyup"), starts="2027-03-04T22:00", ends="2027-03-04T23:00"
    )
    registration = ticket(db, event)
    first = sign_up(db, shift, registration)
    second = sign_up(db, later, registration)
    sign_up(db, shift, ticket(db, event, 2))  # someone else
    with db.session() as session:
        mine = VolunteerService(session).my_shifts(session.get(ShiftSignup, first.signup.id))
        assert [s.id for s in mine] == [first.signup.id, second.signup.id]


def test_copy_to_the_series_keeps_the_times_relative_to_the_start(
    db: Database, make: Factories
) -> None:
    event, _shift = door_shift(db, make, starts="2027-03-04T18:30", ends="2027-03-04T20:00")

    with db.transaction() as session:
        source = session.get(Event, event.id)
        series = Series(
            community_id=source.community_id,
            slug="monthly",
            title="Monthly",
            rrule="FREQ=MONTHLY",
            timezone="Europe/Paris",
            start_time=source.starts_at.time(),
            duration_minutes=180,
            starts_on=source.starts_at.date(),
        )
        session.add(series)
        session.flush()
        source.series_id = series.id
        # The April occurrence, after the change to summer time: 19:00 Paris is 17:00 UTC.
        april = Event(
            community_id=source.community_id,
            series_id=series.id,
            slug="monthly-april",
            title="Monthly",
            starts_at=source.starts_at.replace(month=4, day=1, hour=17),
            ends_at=source.starts_at.replace(month=4, day=1, hour=20),
            timezone="Europe/Paris",
        )
        session.add(april)
    with db.transaction() as session:
        copied = VolunteerService(session).copy_to_series(
            session.get(Event, event.id), created_by=ORGANISER
        )
    assert copied == 1
    with db.session() as session:
        [copy] = session.scalars(select(Shift).where(Shift.event_id == april.id)).all()
        assert copy.starts_at == april.starts_at - timedelta(minutes=30)
        assert (copy.needed, copy.taken, copy.role.kind) == (2, 0, RoleKind.DOOR)
    with db.transaction() as session:  # again: April has roles now, nothing more
        assert (
            VolunteerService(session).copy_to_series(
                session.get(Event, event.id), created_by=ORGANISER
            )
            == 0
        )


# -- privacy ----------------------------------------------------------------------------
def test_anonymisation_reaches_the_sign_ups(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    result = sign_up(db, shift, ticket(db, event))
    with db.transaction() as session:
        anonymise_past_registrations(session, now=event.ends_at + timedelta(days=91), after_days=90)
    signup = load(db, ShiftSignup, result.signup.id)
    assert signup.name == "Anonymised" and signup.email.endswith("@anonymised.invalid")
    assert signup.email.startswith(signup.id.hex)
    with db.session() as session, pytest.raises(NotFound):
        VolunteerService(session).by_manage_token(result.token)
    assert load(db, Shift, shift.id).taken == 1  # the figures stay


def test_erasing_a_registration_cancels_and_anonymises_its_sign_ups(
    db: Database, make: Factories
) -> None:
    event, shift = door_shift(db, make)
    registration = ticket(db, event)
    result = sign_up(db, shift, registration)
    with db.transaction() as session:
        RegistrationService(session).erase(session.get(Registration, registration.id))
    signup = load(db, ShiftSignup, result.signup.id)
    assert signup.status is SignupStatus.CANCELLED and signup.registration_id is None
    assert signup.email.endswith("@anonymised.invalid") and signup.name == "Anonymised"
    assert load(db, Shift, shift.id).taken == 0
    [link] = door_links(db, signup)
    assert link.revoked_at is not None
    with db.session() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == registration.email)
        ).all()
        # The erased address is written to no more (the receipt of cancellation aside).
        assert all(m.kind != "volunteer_cancelled" for m in queued)


def test_shift_reminders_go_once_before_the_shift(db: Database, make: Factories) -> None:
    event, shift = door_shift(db, make)
    result = sign_up(db, shift, ticket(db, event))
    lead = timedelta(hours=24)
    too_early = shift.starts_at - lead - timedelta(minutes=1)
    with db.transaction() as session:
        assert queue_shift_reminders(session, too_early, lead=lead) == 0
    due = shift.starts_at - timedelta(hours=2)
    with db.transaction() as session:
        assert queue_shift_reminders(session, due, lead=lead) == 1
    with db.transaction() as session:
        assert queue_shift_reminders(session, due, lead=lead) == 0  # once only
        assert queue_shift_reminders(session, due, lead=timedelta(0)) == 0  # switched off
    [reminder] = outbox(db, kind="volunteer_reminder")
    assert reminder.to_address == result.signup.email
    # In the volunteer's language (French here), with where the door link is.
    assert "Votre lien d’entrée est dans le premier e-mail" in reminder.text_body
    assert reminder.subject == f"Rappel : votre créneau de bénévole à {event.title}"


def test_someone_without_a_ticket_signs_up_once_their_address_is_proven(
    db: Database, make: Factories
) -> None:
    _event, shift = door_shift(db, make, needed="1")
    with db.transaction() as session:
        result = VolunteerService(session).sign_up_with_confirmed_address(
            session.get(Shift, shift.id), name=" Lou ", email="Lou@Example.org", locale="en"
        )
    assert (result.signup.name, result.signup.email) == ("Lou", "lou@example.org")
    assert result.signup.registration_id is None and result.door_token
    # The shift is full now: a later confirmation is refused, and says why.
    with db.transaction() as session, pytest.raises(Conflict) as full:
        VolunteerService(session).sign_up_with_confirmed_address(
            session.get(Shift, shift.id), name="Max", email="max@example.org", locale="en"
        )
    assert full.value.code == "shift_full"
    with db.transaction() as session, pytest.raises(ValidationFailed) as bad:
        VolunteerService(session).sign_up_with_confirmed_address(
            session.get(Shift, shift.id), name="", email="x", locale="en"
        )
    assert bad.value.errors == {"name": "required", "email": "invalid_email"}
