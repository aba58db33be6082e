"""Reminders: one mail to each confirmed attendee before their event, never two.

A registration's reminder is due ``MAIL_REMINDER_HOURS`` (the lead) before the start.
Someone confirmed after that moment (registered late, or whose event was moved closer
than the lead) is reminded halfway between their confirmation and the start: a reminder
right after the ticket would say nothing new, none at all would leave them out. Registered
an hour before: reminded half an hour before.

The periodic job (:mod:`events.jobs.periodic`) calls :func:`queue_due_reminders` every
minute. One reminder per registration, whatever happens to the event afterwards (a moved
event is announced by its own mail): ``OutboxMessage.dedupe_key`` is unique per
registration, so a re-run or two runners at once never duplicate one, and reminders
already written under the former per-start-time keys count too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.mail.notify import MailKind, queue_registration_mail
from events.models import Event, EventStatus, OutboxMessage, Registration, RegistrationStatus


def reminder_key(registration: Registration) -> str:
    """One reminder per registration, ever."""
    return f"reminder:{registration.id}"


def reminder_due_at(
    starts_at: datetime, confirmed_at: datetime | None, lead: timedelta
) -> datetime:
    """When the reminder of a registration confirmed at ``confirmed_at`` is due."""
    usual = starts_at - lead
    if confirmed_at is None or confirmed_at <= usual:
        return usual
    return confirmed_at + (starts_at - confirmed_at) / 2


def queue_due_reminders(session: Session, now: datetime | None = None, *, lead: timedelta) -> int:
    """Queue the reminders due at ``now``: confirmed registrations of published events that
    start within ``lead``, once their reminder is due (:func:`reminder_due_at`) and if
    none was written for them yet. Each insert runs in a savepoint and a duplicate key is
    skipped. A zero ``lead`` turns reminders off. Returns how many were queued."""
    now = now or utcnow()
    if lead <= timedelta(0):
        return 0
    rows = session.execute(
        select(Registration, Event)
        .join(Event, Registration.event_id == Event.id)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.starts_at <= now + lead,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).all()
    due = [
        (registration, event)
        for registration, event in rows
        if reminder_due_at(event.starts_at, registration.confirmed_at, lead) <= now
    ]
    if not due:
        return 0
    reminded = set(
        session.scalars(
            select(OutboxMessage.registration_id).where(
                OutboxMessage.kind == MailKind.REMINDER.value,
                OutboxMessage.registration_id.in_([r.id for r, _event in due]),
            )
        )
    )
    queued = 0
    for registration, event in due:
        if registration.id in reminded:
            continue
        try:
            with session.begin_nested():
                message = queue_registration_mail(
                    session,
                    event,
                    registration,
                    MailKind.REMINDER,
                    dedupe_key=reminder_key(registration),
                    now=now,
                )
        except IntegrityError:
            continue  # another runner queued it meanwhile
        queued += message is not None
    return queued
