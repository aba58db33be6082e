"""Reminders: a mail to each confirmed attendee some time (``MAIL_REMINDER_HOURS``) before
their event starts.

The periodic job (:mod:`events.jobs.periodic`) calls :func:`queue_due_reminders` every
round; exactly one row per key is ever written (``OutboxMessage.dedupe_key`` is unique),
so a re-run or two runners at once never duplicate a reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.mail.notify import MailKind, queue_registration_mail
from events.models import Event, EventStatus, OutboxMessage, Registration, RegistrationStatus


def reminder_key(registration: Registration, event: Event) -> str:
    """One reminder per registration and start time: a moved event is reminded again."""
    return f"reminder:{registration.id}:{int(event.starts_at.timestamp())}"


def queue_due_reminders(session: Session, now: datetime | None = None, *, lead: timedelta) -> int:
    """Queue the reminders that are due: confirmed registrations of published events that
    start within ``lead``, registered before the reminder time (someone registering an
    hour before has just had their ticket). Exactly once per registration and start time,
    even with several workers: ``dedupe_key`` is unique, each insert runs in a savepoint
    and a duplicate is skipped. A zero ``lead`` turns reminders off. Returns how many
    were queued."""
    now = now or utcnow()
    if lead <= timedelta(0):
        return 0
    events = list(
        session.scalars(
            select(Event).where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + lead,
            )
        )
    )
    queued = 0
    for event in events:
        registrations = list(
            session.scalars(
                select(Registration).where(
                    Registration.event_id == event.id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                    Registration.confirmed_at <= event.starts_at - lead,
                )
            )
        )
        keys = {reminder_key(r, event): r for r in registrations}
        if not keys:
            continue
        done = set(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys)))
            )
        )
        for key, registration in keys.items():
            if key in done:
                continue
            try:
                with session.begin_nested():
                    message = queue_registration_mail(
                        session, event, registration, MailKind.REMINDER, dedupe_key=key, now=now
                    )
            except IntegrityError:
                continue  # another worker queued it meanwhile
            queued += message is not None
    return queued
