"""Shift reminders: one mail to each confirmed volunteer before their shift, never two.

The same rule as the attendees' reminders (:mod:`events.jobs.reminders`): due
``MAIL_REMINDER_HOURS`` before the shift starts, or halfway between a late sign-up and the
start (:func:`~events.jobs.reminders.reminder_due_at`). One reminder per sign-up, ever
(``dedupe_key`` is unique; each insert in a savepoint, a duplicate skipped), so re-runs and
several runners never remind twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.jobs.reminders import reminder_due_at
from events.mail.outbox import queued_keys
from events.mail.volunteers import VolunteerMail, queue_volunteer_mail
from events.models import Event, EventStatus, Shift, ShiftSignup, SignupStatus


def shift_reminder_key(signup: ShiftSignup) -> str:
    return f"shift-reminder:{signup.id}"


def queue_shift_reminders(session: Session, now: datetime, *, lead: timedelta) -> int:
    """Queue the shift reminders due at ``now``; a zero ``lead`` turns them off. Returns
    how many were queued."""
    if lead <= timedelta(0):
        return 0
    rows = session.execute(
        select(ShiftSignup, Shift, Event)
        .join(Shift, Shift.id == ShiftSignup.shift_id)
        .join(Event, Event.id == ShiftSignup.event_id)
        .where(
            ShiftSignup.status == SignupStatus.CONFIRMED,
            Event.status == EventStatus.PUBLISHED,
            Shift.starts_at > now,
            Shift.starts_at <= now + lead,
        )
    ).all()
    due = {
        shift_reminder_key(signup): (signup, event)
        for signup, shift, event in rows
        if reminder_due_at(shift.starts_at, signup.confirmed_at, lead) <= now
    }
    done = queued_keys(session, due)
    queued = 0
    for key, (signup, event) in due.items():
        if key in done:
            continue
        try:
            with session.begin_nested():
                message = queue_volunteer_mail(
                    session, event, signup, VolunteerMail.REMINDER, dedupe_key=key, now=now
                )
        except IntegrityError:
            continue  # another runner queued it meanwhile
        queued += message is not None
    return queued
