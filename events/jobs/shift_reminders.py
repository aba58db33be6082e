"""Shift reminders: a mail to each confirmed volunteer some time (``MAIL_REMINDER_HOURS``,
as for attendees) before their shift starts.

Exactly one row per sign-up and start time is ever written (``dedupe_key`` is unique; each
insert in a savepoint, a duplicate skipped), so re-runs and several runners never remind
twice; a moved shift is reminded again. Someone who signed up after the reminder time has
just had their confirmation and is not reminded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.mail.outbox import queued_keys
from events.mail.volunteers import VolunteerMail, queue_volunteer_mail
from events.models import Event, EventStatus, Shift, ShiftSignup, SignupStatus


def shift_reminder_key(signup: ShiftSignup, shift: Shift) -> str:
    return f"shift-reminder:{signup.id}:{int(shift.starts_at.timestamp())}"


def queue_shift_reminders(session: Session, now: datetime, *, lead: timedelta) -> int:
    """Queue the shift reminders that are due; a zero ``lead`` turns them off. Returns how
    many were queued."""
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
        shift_reminder_key(signup, shift): (signup, event)
        for signup, shift, event in rows
        if signup.confirmed_at is not None and signup.confirmed_at <= shift.starts_at - lead
    }
    if not due:
        return 0
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
            continue
        queued += message is not None
    return queued
