"""Demo data: volunteers on an upcoming evening, and past evenings with check-ins and feedback.

Made through the domain's own operations, as in real life:

- the bike-repair workshop asks for volunteers (door, welcome desk, tidy-up): one
  registrant took the welcome desk with their ticket, an organiser put someone on the door
  (a door link, valid from 30 minutes before the shift, is mailed to them), the tidy-up
  shift still needs everyone, so the event page's "Help us" section and
  ``/g/{community}/volunteer`` show open shifts;
- three past monthly evenings (registered while upcoming, let in at the door, then moved
  into the past, as the feedback tests do), so the community's statistics page
  (``/g/{community}/stats``) has months to show, with people coming back from month to
  month and one month small enough to be suppressed;
- feedback from people who came to the last of them, so the organisers' feedback page has
  ratings and free text.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Community, Event, Registration, RoleKind
from events.services.door import DoorService
from events.services.door_input import scan_input
from events.services.events import EventInput, EventService
from events.services.feedback import FeedbackInput, FeedbackService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.volunteers import RoleInput, ShiftInput, VolunteerService

ZONE = "Europe/Paris"
#: Past evenings, a month or more apart: (days ago, registrants, how many of them came).
#: The oldest is small: its registered/came/no-show cells are suppressed on the public
#: page. The last is recent enough for its feedback form to be open (30 days).
PAST_EVENINGS = ((95, 4, 3), (60, 16, 12), (12, 22, 17))
#: What people who came to the last evening wrote: (rating, keep, change).
FEEDBACK = (
    ("5", "The open tables: I met two neighbours who garden too.", ""),
    ("4", "The short pitches.", "The room was too loud during the open tables."),
    ("4", "", "Start a little later: 19:00 is hard after work."),
    ("5", "Everything, and the soup.", ""),
    ("3", "The people.", "Name badges, please."),
    ("4", "Meeting the tool-library team.", ""),
)


def _local(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def seed_volunteers(
    session: Session, workshop: Event, registrant: Registration, organiser_id: UUID
) -> None:
    """Roles and shifts on ``workshop`` (18:30–21:00), one taken with a ticket, one by the
    organisers, one open."""
    service = VolunteerService(session)
    local_day = workshop.starts_at.astimezone(ZoneInfo(workshop.timezone)).date()
    door = service.add_role(
        workshop,
        RoleInput(
            kind=RoleKind.DOOR.value,
            description="Scan tickets with your phone and welcome people in.",
            door_lead_minutes="30",
        ),
    )
    welcome = service.add_role(
        workshop,
        RoleInput(
            kind=RoleKind.WELCOME.value,
            description="Coffee, name badges, and showing people where the tools are.",
        ),
    )
    tidy = service.add_role(workshop, RoleInput(kind=RoleKind.TIDYUP.value))
    created_by = organiser_id
    door_shift = service.add_shift(
        door,
        ShiftInput(
            starts_local=_local(local_day, 18), ends_local=_local(local_day, 19, 30), needed="2"
        ),
        created_by=created_by,
    )
    welcome_shift = service.add_shift(
        welcome,
        ShiftInput(
            starts_local=_local(local_day, 18, 15),
            ends_local=_local(local_day, 19, 30),
            needed="2",
            requires_arrival="",
        ),
        created_by=created_by,
    )
    service.add_shift(
        tidy,
        ShiftInput(
            starts_local=_local(local_day, 20, 45), ends_local=_local(local_day, 21, 30), needed="3"
        ),
        created_by=created_by,
    )
    service.sign_up_with_ticket(welcome_shift, registrant)
    service.assign(
        door_shift,
        name="Rémi Bénévole",
        email="remi.benevole@example.org",
        locale="fr",
        actor_id=created_by,
    )


def seed_past_evenings(
    session: Session, community: Community, venue_id: object, today: date
) -> Event | None:
    """Three past evenings with registrations and check-ins (people come back from one to
    the next); feedback on the last. Returns the last one."""
    events = EventService(session)
    registrations = RegistrationService(session)
    last: Event | None = None
    future_day = today + timedelta(days=60)  # registered while upcoming, then moved
    for days_ago, registrants, came in PAST_EVENINGS:
        event = events.create(
            community,
            EventInput(
                title=f"Jeudi des Possibles — il y a {days_ago} jours",
                description="A past evening: pitches, open tables, soup.",
                starts_local=_local(future_day, 19),
                ends_local=_local(future_day, 22),
                timezone=ZONE,
                venue_id=str(venue_id),
                capacity="60",
                tags="innovation sociale",
            ),
        )
        events.publish(event)
        people = []
        for n in range(registrants):
            # The same addresses across evenings: returning people on the statistics page.
            people.append(
                registrations.register(
                    event,
                    RegistrationInput(
                        name=f"Habitué·e {n + 1}",
                        email=f"regular{n + 1}@example.org",
                        consent="on",
                        locale="fr" if n % 2 else "en",
                    ),
                ).registration
            )
        door = DoorService(session)
        for registration in people[:came]:
            door.check_in(
                event,
                scan_input({"scanned": registration.ticket_code, "device": "demo"}, now=utcnow()),
            )
        starts = utcnow().replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(
            days=days_ago
        )
        session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(starts_at=starts, ends_at=starts + timedelta(hours=3))
        )
        session.expire(event)
        last = event
    if last is not None:
        seed_feedback(session, last, people)
    return last


def seed_feedback(session: Session, event: Event, came: list[Registration]) -> None:
    """Answers from people who came, through ``FeedbackService.give`` and its rules."""
    service = FeedbackService(session)
    for registration, (rating, keep, change) in zip(came, FEEDBACK, strict=False):
        service.give(event, registration, FeedbackInput(rating=rating, keep=keep, change=change))
