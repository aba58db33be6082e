"""Helpers shared by the mail tests: an open event, registrations, the outbox rows, and
reading a received message (its parts, the inline QR code, the calendar file)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from uuid import UUID

from icalendar import Calendar
from sqlalchemy import select

from events.database import Database
from events.mail.prepare import prepare_outbox
from events.mail.settings import MailSettings
from events.models import Community, Event, OutboxMessage, Registration
from events.services.events import EventInput, EventService
from events.services.registrations import (
    RegistrationInput,
    RegistrationResult,
    RegistrationService,
)
from events.services.venues import VenueInput, VenueService
from tests.conftest import BASE_URL
from tests.factories import Factories

#: What the test server's worker renders mails with: links start with the test BASE_URL.
MAIL = MailSettings(base_url=BASE_URL)


def open_event(
    db: Database,
    make: Factories,
    *,
    community: Community | None = None,
    capacity: str = "",
    title: str = "Flat-share meetup",
    starts: str = "2030-03-07T19:00",
    ends: str = "2030-03-07T22:00",
    with_venue: bool = True,
    tags: str = "",
    **settings: Any,
) -> Event:
    """A published event in 2030 (with a venue), with the given registration settings."""
    community = community or make.community()
    with db.transaction() as session:
        venue_id = ""
        if with_venue:
            venue = VenueService(session).create(
                community, VenueInput(name="The Canteen", address="12 rue des Lilas\nParis")
            )
            venue_id = str(venue.id)
        service = EventService(session)
        event = service.create(
            community,
            EventInput(
                title=title,
                starts_local=starts,
                ends_local=ends,
                capacity=capacity,
                venue_id=venue_id,
                tags=tags,
            ),
        )
        service.publish(event)
        for name, value in settings.items():
            setattr(event, name, value)
    return event


def edit_event(db: Database, event: Event, **changes: str) -> None:
    """Edit the event as the organiser's form does (its 2030-03-07 19:00–22:00 time unless
    ``changes`` say otherwise)."""
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        values = {
            "title": loaded.title,
            "starts_local": "2030-03-07T19:00",
            "ends_local": "2030-03-07T22:00",
            "timezone": loaded.timezone,
            "venue_id": str(loaded.venue_id or ""),
            "online_url": loaded.online_url,
            "capacity": "" if loaded.capacity is None else str(loaded.capacity),
        }
        values.update(changes)
        EventService(session).update(loaded, EventInput(**values))


def person(n: int | str = 1, **overrides: Any) -> RegistrationInput:
    values: dict[str, Any] = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "consent": "on",
        "locale": "en",
    }
    values.update(overrides)
    return RegistrationInput(**values)


def register(db: Database, event: Event, data: RegistrationInput) -> RegistrationResult:
    """Register, then render the queued mail as the server's worker does half a second
    after the commit (events/mail/prepare.py)."""
    with db.transaction() as session:
        result = RegistrationService(session).register(session.get(Event, event.id), data)
    render_queued_mails(db)
    return result


def act(db: Database, registration_id: UUID, method: str, *args: Any) -> Any:
    with db.transaction() as session:
        registration = session.get(Registration, registration_id)
        done = getattr(RegistrationService(session), method)(registration, *args)
    render_queued_mails(db)
    return done


def render_queued_mails(db: Database) -> None:
    while prepare_outbox(db, MAIL):
        pass


def outbox(db: Database, **where: Any) -> list[OutboxMessage]:
    """Outbox rows in the order they were written, filtered by column values, once the
    worker's rendering step has run (as it does within a second in the server)."""
    render_queued_mails(db)
    with db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.scalars(query))


def kinds_by_address(db: Database, **where: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in outbox(db, **where):
        found.setdefault(message.to_address, []).append(message.kind)
    return found


def inline_image(message: EmailMessage) -> tuple[str, bytes]:
    """The (Content-ID, bytes) of the one inline image the HTML body shows."""
    images = [
        part
        for part in message.walk()
        if part.get_content_maintype() == "image" and part.get("Content-ID")
    ]
    assert len(images) == 1, [part.get_content_type() for part in message.walk()]
    image = images[0]
    return image["Content-ID"].strip("<>"), image.get_content()


def calendar_attachment(message: EmailMessage) -> Calendar:
    parts = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1, [part.get_content_type() for part in message.iter_attachments()]
    data = parts[0].get_payload(decode=True)
    return Calendar.from_ical(data)


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None, f"no {kind} part"
    return part.get_content().replace("\r\n", "\n")  # as sent: SMTP line endings
