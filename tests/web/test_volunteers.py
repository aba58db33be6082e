"""Volunteering through HTTP: the organisers' page (roles, shifts, coverage, assign, take
off), a registrant signing up from their private page, the volunteer's private page (cancel,
``.ics``, data), the event page's "help us" section and the community's shift page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from events.clock import utcnow
from events.database import Database
from events.models import (
    DoorLink,
    Event,
    Registration,
    Shift,
    ShiftSignup,
    SignupStatus,
    VolunteerRole,
)
from tests.factories import Factories
from tests.mail.scenario import outbox
from tests.web.conftest import Client
from tests.web.test_door import post_json
from tests.web.test_manage_attendees import open_event

BASE = "/manage/coloc/events"


def volunteers_url(event: Event) -> str:
    return f"{BASE}/{event.slug}/volunteers"


def add_door_shift(client: Client, event: Event, db: Database, needed: str = "2") -> Shift:
    here = volunteers_url(event)
    added = client.submit(f"{here}/roles", {"kind": "door", "door_lead_minutes": "30"})
    assert added.status_code == 303, added.text
    with db.session() as session:
        role = session.scalars(
            select(VolunteerRole).where(VolunteerRole.event_id == event.id)
        ).one()
    shift = client.submit(
        f"{here}/shifts",
        {
            "role": str(role.id),
            "starts_local": "2030-03-07T18:30",
            "ends_local": "2030-03-07T20:00",
            "needed": needed,
        },
    )
    assert shift.status_code == 303, shift.text
    with db.session() as session:
        return session.scalars(select(Shift).where(Shift.event_id == event.id)).one()


def registrant_token(client: Client, event: Event) -> str:
    """Register through the public form; the private link is where it redirects."""
    answer = client.submit(
        f"/e/{event.slug}/register",
        {"name": "Ada", "email": "ada@example.org", "consent": "on", "request_key": "k" * 16},
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].removeprefix("/r/")


def test_the_organiser_builds_roles_and_shifts_and_sees_coverage(
    coloc_organiser: Client, db: Database
) -> None:
    client = coloc_organiser
    event = open_event(db)
    page = client.get(volunteers_url(event))
    assert page.status_code == 200 and "Add a role" in page.text
    shift = add_door_shift(client, event, db)
    page = client.get(volunteers_url(event))
    assert "At the door" in page.text and "0 of 2 people" in page.text
    assert (shift.needed, shift.taken) == (2, 0)
    # A bad shift comes back with its error next to the field.
    bad = client.submit(
        f"{volunteers_url(event)}/shifts",
        {
            "role": str(shift.role_id),
            "starts_local": "2030-03-07T18:30",
            "ends_local": "x",
            "needed": "0",
        },
    )
    assert bad.status_code == 400
    assert "Enter a date and time" in bad.text and "out of the allowed range" in bad.text
    # A custom role needs a name.
    nameless = client.submit(f"{volunteers_url(event)}/roles", {"kind": "custom"})
    assert nameless.status_code == 400 and "Give this role a name" in nameless.text


def test_assign_and_take_off(coloc_organiser: Client, db: Database) -> None:
    client = coloc_organiser
    event = open_event(db)
    shift = add_door_shift(client, event, db, needed="1")
    here = volunteers_url(event)
    assigned = client.submit(
        f"{here}/assign",
        {"shift": str(shift.id), "name": "Sam", "email": "sam@example.org", "locale": "en"},
    )
    assert assigned.status_code == 303
    page = client.get(here)
    assert "Sam" in page.text and "1 of 1 people" in page.text
    full = client.submit(
        f"{here}/assign",
        {"shift": str(shift.id), "name": "Kim", "email": "kim@example.org", "locale": "en"},
    )
    assert full.status_code == 409 and "all the people it needs" in full.text
    with db.session() as session:
        signup = session.scalars(select(ShiftSignup)).one()
    removed = client.submit(f"{here}/signups/{signup.id}/remove")
    assert removed.status_code == 303
    assert [m.kind for m in outbox(db, to_address="sam@example.org")] == [
        "volunteer_signed_up",
        "volunteer_removed",
    ]


def test_a_registrant_signs_up_from_the_private_page(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    shift = add_door_shift(coloc_organiser, event, db)
    token = registrant_token(other_client, event)
    private = other_client.get(f"/r/{token}")
    assert f"/r/{token}/volunteer" in private.text
    page = other_client.get(f"/r/{token}/volunteer")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Sign up" in page.text
    done = other_client.submit(f"/r/{token}/volunteer", {"shift": str(shift.id)})
    assert done.status_code == 303
    page = other_client.get(f"/r/{token}/volunteer")
    assert "You are on it." in page.text and "door link" in page.text
    again = other_client.submit(f"/r/{token}/volunteer", {"shift": str(shift.id)})
    assert again.status_code == 409 and "already on this shift" in again.text
    unknown = other_client.submit(f"/r/{token}/volunteer", {"shift": "not-an-id"})
    assert unknown.status_code == 400 and "no longer exists" in unknown.text
    [mail] = outbox(db, kind="volunteer_signed_up")
    door_link = re.search(r"/door/[\w-]+/link/[\w-]+", mail.text_body)
    assert door_link is not None
    volunteer_token = re.search(r"/v/([\w-]+)", mail.text_body).group(1)  # type: ignore[union-attr]
    # The volunteer's private page: the shift, its calendar, the data, cancel.
    mine = other_client.get(f"/v/{volunteer_token}")
    assert mine.status_code == 200 and "At the door" in mine.text
    assert mine.headers["x-robots-tag"] == "noindex, nofollow"
    ics = other_client.get(f"/v/{volunteer_token}/shifts.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    [vevent] = Calendar.from_ical(ics.content).events
    assert vevent.start == shift.starts_at and vevent.end == shift.ends_at
    assert str(vevent["SUMMARY"]).startswith("At the door — ")
    data = json.loads(other_client.get(f"/v/{volunteer_token}/data.json").text)
    assert data["volunteer"]["email"] == "ada@example.org"
    assert [item["status"] for item in data["shifts"]] == ["confirmed"]
    cancelled = other_client.submit(f"/v/{volunteer_token}/cancel")
    assert cancelled.status_code == 303
    with db.session() as session:
        assert session.scalars(select(ShiftSignup)).one().status is SignupStatus.CANCELLED
    assert other_client.get("/v/unknown-token").status_code == 404


def test_the_event_page_asks_for_help_and_the_community_lists_the_shifts(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    add_door_shift(coloc_organiser, event, db, needed="3")
    page = other_client.get(f"/e/{event.slug}")
    assert "Help us" in page.text and "3 people still needed" in page.text
    listing = other_client.get("/g/coloc/volunteer")
    assert listing.status_code == 200 and event.title in listing.text
    assert "3 people still needed" in listing.text
    assert other_client.get("/g/nope/volunteer").status_code == 404


def test_a_registrant_s_shifts_in_their_data_and_cancelled_from_their_page(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    shift = add_door_shift(coloc_organiser, event, db)
    token = registrant_token(other_client, event)
    other_client.submit(f"/r/{token}/volunteer", {"shift": str(shift.id)})
    data = json.loads(other_client.get(f"/r/{token}/data.json").text)
    assert [item["role"] for item in data["volunteer_shifts"]] == ["At the door"]
    with db.session() as session:
        signup = session.scalars(select(ShiftSignup)).one()
    page = other_client.get(f"/r/{token}/volunteer")
    assert "Cancel this shift" in page.text
    cancelled = other_client.submit(f"/r/{token}/volunteer/cancel", {"signup": str(signup.id)})
    assert cancelled.status_code == 303
    assert "Your shift is cancelled" in other_client.get(f"/r/{token}/volunteer").text
    stranger = other_client.submit(f"/r/{token}/volunteer/cancel", {"signup": "nope"})
    assert "no longer on this shift" in other_client.get(stranger.headers["location"]).text


@pytest.mark.parametrize("path", ["", "/shifts/00000000-0000-0000-0000-000000000000"])
def test_other_communities_do_not_see_the_page(
    path: str, client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    make.community(owner=owner, slug="coloc")
    event = open_event(db)
    stranger = make.user()
    make.community(owner=stranger)
    client.login_as(db, stranger)
    assert client.get(volunteers_url(event) + path).status_code == 404


def test_a_door_shift_link_opens_the_scanner_in_its_window_only(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    shift = add_door_shift(coloc_organiser, event, db)
    token = registrant_token(other_client, event)
    other_client.submit(f"/r/{token}/volunteer", {"shift": str(shift.id)})
    [mail] = outbox(db, kind="volunteer_signed_up")
    link = re.search(r"/door/[\w-]+/link/[\w-]+", mail.text_body).group(0)  # type: ignore[union-attr]
    volunteer = other_client
    volunteer.cookies.clear()
    # Before the window (the shift is in 2030): the link is kept, the scanner says when.
    opened = volunteer.get(link, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/door/{event.slug}"
    early = volunteer.get(f"/door/{event.slug}")
    assert early.status_code == 403 and "This door link works from" in early.text
    refused = post_json(
        volunteer, f"/door/{event.slug}/scan", {"scanned": "x", "nonce": "n1abcdef"}
    )
    assert refused.status_code == 403
    assert "works from" in refused.json()["title"] + refused.json().get("detail", "")
    # The organisers' door page says where the link comes from.
    door_page = coloc_organiser.get(f"{BASE}/{event.slug}/door")
    assert "from a door shift" in door_page.text and "valid from" in door_page.text
    # During the window: in.
    with db.transaction() as session:
        session.execute(update(DoorLink).values(valid_from=utcnow() - timedelta(minutes=1)))
    assert volunteer.get(f"/door/{event.slug}").status_code == 200
    with db.session() as session:
        registration = session.scalars(select(Registration)).one()
    admitted = post_json(
        volunteer,
        f"/door/{event.slug}/scan",
        {"scanned": registration.ticket_code, "nonce": "n2abcdef"},
    )
    assert admitted.status_code == 200 and admitted.json()["verdict"] == "admitted"
    # After the window: refused, and forgotten.
    with db.transaction() as session:
        session.execute(update(DoorLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert volunteer.get(f"/door/{event.slug}").status_code == 410


def test_someone_without_a_ticket_takes_a_shift_by_confirming_their_address(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    """From the community's page (or the event page's help section) to the form, the
    mailed confirmation link, and the volunteer's private page with the door link mailed."""
    event = open_event(db)
    shift = add_door_shift(coloc_organiser, event, db, needed="1")
    form_url = f"/g/coloc/volunteer/{shift.id}"
    assert form_url in other_client.get("/g/coloc/volunteer").text
    assert form_url in other_client.get(f"/e/{event.slug}").text
    form = other_client.get(form_url)
    assert form.status_code == 200 and "Send me the link" in form.text
    # Field errors come back on the form, with what was typed.
    bad = other_client.submit(form_url, {"name": "", "email": "sam@"})
    assert bad.status_code == 400 and 'value="sam@"' in bad.text
    assert "Enter a valid e-mail address" in bad.text
    sent = other_client.submit(form_url, {"name": "Sam", "email": "Sam@Example.org"})
    assert sent.status_code == 303 and sent.headers["location"] == "/g/coloc/volunteer"
    assert "we sent you an e-mail" in other_client.get("/g/coloc/volunteer").text
    with db.session() as session:
        assert session.scalars(select(ShiftSignup)).all() == []  # nothing before the click
    [mail] = outbox(db, to_address="sam@example.org")
    confirm = re.search(r"/c/[A-Za-z0-9_-]+", mail.text_body)
    assert confirm is not None
    # Opening the link (a mail scanner does) takes nothing; the button does.
    opened = other_client.get(confirm.group(0))
    assert opened.status_code == 200 and "puts you on the shift" in opened.text
    assert event.title in opened.text
    done = other_client.submit(confirm.group(0))
    assert done.status_code == 303 and done.headers["location"].startswith("/v/")
    mine = other_client.get(done.headers["location"])
    assert mine.status_code == 200 and "you are on the shift" in mine.text
    assert "At the door" in mine.text
    with db.session() as session:
        signup = session.scalars(select(ShiftSignup)).one()
        assert (signup.name, signup.email) == ("Sam", "sam@example.org")
        assert session.scalars(select(DoorLink)).one().shift_signup_id == signup.id
    [signed] = outbox(db, to_address="sam@example.org", kind="volunteer_signed_up")
    assert "/door/" in signed.text_body and done.headers["location"] in signed.text_body
    # The shift is full now: the form says so and takes nobody.
    full = other_client.get(form_url)
    assert "needs nobody any more" in full.text and "Send me the link" not in full.text
    refused = other_client.submit(form_url, {"name": "Max", "email": "max@example.org"})
    assert refused.status_code == 409 and "all the people it needs" in refused.text
    # A shift of another community or an unknown one is not found.
    assert other_client.get("/g/coloc/volunteer/nope").status_code == 404
    assert other_client.get("/g/nope/volunteer/" + str(shift.id)).status_code == 404
