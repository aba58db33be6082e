"""``/me/{token}/feed.ics``: everything one address registered for, private, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from events.calendar import event_uid
from events.database import Database
from events.demo import today_in_paris
from events.models import Event, Registration
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.personal_feeds import issue_feed_token, revoke_feed_tokens
from events.services.registrations import RegistrationInput, RegistrationService
from tests.factories import Factories
from tests.ical_js import expand_with_ical_js, require_ical_js
from tests.web.conftest import Client

ADA = "ada@example.org"


def open_event(db: Database, title: str, *, capacity: str = "", days: int = 10) -> Event:
    day = (today_in_paris() + timedelta(days=days)).isoformat()
    with db.transaction() as session:
        service = EventService(session)
        event = service.create(
            CommunityService(session).by_slug("ours"),
            EventInput(
                title=title,
                starts_local=f"{day}T19:00",
                ends_local=f"{day}T21:00",
                capacity=capacity,
            ),
        )
        service.publish(event)
        return event


def register(db: Database, event: Event, email: str = ADA) -> Registration:
    with db.transaction() as session:
        person = RegistrationInput(name="Ada", email=email, consent="on")
        return (
            RegistrationService(session).register(session.get(Event, event.id), person).registration
        )


def statuses(body: bytes) -> dict[str, str]:
    calendar = Calendar.from_ical(body)
    return {str(c["UID"]): str(c["STATUS"]) for c in calendar.walk("VEVENT")}


@pytest.fixture
def token(db: Database, make: Factories) -> str:
    make.community(slug="ours", name="Our group")
    with db.transaction() as session:
        return issue_feed_token(session, ADA.upper())


@pytest.fixture
def mine(db: Database, token: str) -> dict[str, Event]:
    events = {
        "confirmed": open_event(db, "Confirmed"),
        "waitlisted": open_event(db, "Full", capacity="1", days=11),
        "cancelled": open_event(db, "Changed my mind", days=12),
        "someone else's": open_event(db, "Not mine", days=13),
    }
    register(db, events["confirmed"])
    register(db, events["waitlisted"], "first@example.org")
    register(db, events["waitlisted"])
    cancelled = register(db, events["cancelled"])
    with db.transaction() as session:
        RegistrationService(session).cancel(session.get(Registration, cancelled.id))
    register(db, events["someone else's"], "bob@example.org")
    return events


def test_the_feed_lists_what_the_address_registered_for(
    client: Client, token: str, mine: dict[str, Event]
) -> None:
    response = client.get(f"/me/{token}/feed.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert statuses(response.content) == {
        event_uid(mine["confirmed"]): "CONFIRMED",
        event_uid(mine["waitlisted"]): "TENTATIVE",
        event_uid(mine["cancelled"]): "CANCELLED",
    }


def test_ical_js_reads_the_same_statuses(
    client: Client, token: str, mine: dict[str, Event]
) -> None:
    require_ical_js()
    body = client.get(f"/me/{token}/feed.ics").content
    until = (today_in_paris() + timedelta(days=60)).isoformat()
    records = {r["uid"]: r["status"] for r in expand_with_ical_js(body, until)}
    assert records == statuses(body)


def test_the_feed_is_private_and_conditional(
    client: Client, token: str, mine: dict[str, Event]
) -> None:
    response = client.get(f"/me/{token}/feed.ics")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in response.headers
    assert "set-cookie" not in response.headers
    again = client.get(f"/me/{token}/feed.ics", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("forged", ["nope", "x" * 500, "a%2Fb", "../feeds/all"])
def test_unknown_and_revoked_tokens_answer_404(
    client: Client, db: Database, token: str, forged: str
) -> None:
    assert client.get(f"/me/{forged}/feed.ics").status_code == 404
    with db.transaction() as session:
        assert revoke_feed_tokens(session, ADA) == 1
    assert client.get(f"/me/{token}/feed.ics").status_code == 404
