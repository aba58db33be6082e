"""The feedback mail: once an event is over, each registrant whose party was let in at the
door (walk-ins included) gets one mail with a link to the feedback form.

The periodic job (:mod:`events.jobs.periodic`) calls :func:`queue_feedback_invitations`
every round. Exactly one mail per registration is ever written (``dedupe_key``
``feedback:<registration id>`` is unique; each insert runs in a savepoint, a duplicate is
skipped), so re-runs and several runners at once never mail twice. Each mail carries a
further private link (``RegistrationService.add_private_link``; only its hash is stored),
so the form opens from the mail; events that ended more than ``INVITE_WITHIN`` ago are left
alone (a new installation does not mail about its whole history).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.mail.notify import MailKind, queue_registration_mail
from events.mail.outbox import queued_keys
from events.models import Event, EventStatus, Registration
from events.services.registrations import RegistrationService
from events.validation import is_placeholder_email

#: How long after its end an event's feedback mail may still go.
INVITE_WITHIN = timedelta(days=3)


def feedback_key(registration: Registration) -> str:
    return f"feedback:{registration.id}"


def queue_feedback_invitations(session: Session, now: datetime) -> int:
    """Queue the feedback mails that are due; returns how many were queued."""
    events = session.scalars(
        select(Event).where(
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at <= now,
            Event.ends_at > now - INVITE_WITHIN,
        )
    ).all()
    queued = 0
    service = RegistrationService(session)
    for event in events:
        came = [
            registration
            for registration in session.scalars(
                select(Registration).where(
                    Registration.event_id == event.id, Registration.arrived > 0
                )
            )
            if not is_placeholder_email(registration.email)
        ]
        keys = {feedback_key(registration): registration for registration in came}
        if not keys:
            continue
        done = queued_keys(session, keys)
        for key, registration in keys.items():
            if key in done:
                continue
            try:
                with session.begin_nested():
                    token = service.add_private_link(registration)
                    queue_registration_mail(
                        session,
                        event,
                        registration,
                        MailKind.FEEDBACK,
                        token=token,
                        dedupe_key=key,
                        now=now,
                    )
            except IntegrityError:
                continue  # another runner queued it meanwhile
            queued += 1
    return queued
