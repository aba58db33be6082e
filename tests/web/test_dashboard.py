"""The community dashboard lists upcoming events with how many people registered."""

from __future__ import annotations

from datetime import timedelta

from events.database import Database
from events.demo import today_in_paris
from events.models import Role
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.factories import Factories
from tests.web.conftest import Client


def test_upcoming_events_show_registrations_against_capacity(
    client: Client, db: Database, make: Factories
) -> None:
    organiser = make.user()
    community = make.community(slug="coloc")
    make.member(community, role=Role.ORGANISER, user=organiser)
    day = (today_in_paris() + timedelta(days=10)).isoformat()
    with db.transaction() as session:
        service = EventService(session)
        for title, capacity in (("Limited", "80"), ("Open", "")):
            event = service.create(
                community,
                EventInput(
                    title=title,
                    starts_local=f"{day}T19:00",
                    ends_local=f"{day}T21:00",
                    capacity=capacity,
                ),
            )
            service.publish(event)
            person = RegistrationInput(name="Ada", email="ada@example.org", consent="on")
            RegistrationService(session).register(event, person)
    client.login_as(db, organiser)
    text = client.get("/manage/coloc").text
    assert "1 of 80" in text
    assert ">1</td>" in text
