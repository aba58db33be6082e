"""What every change of a registration leaves behind: an audit-log row and, when the
registrant should know, a queued mail.

The registration use cases (events/services/registrations.py), the capacity module
(events/services/places.py: promotions) and the door's walk-ins (events/services/door.py)
all record through here, so a row and its mail are written the same way whoever changes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from events.mail.notify import MailKind, queue_registration_mail
from events.models import Event, Registration, RegistrationLog, RegistrationStatus
from events.models.base import table_of

_INSERT_LOG = insert(table_of(RegistrationLog))


def log_registration(
    session: Session, registration: Registration, action: str, actor_id: Any, **detail: Any
) -> None:
    """Append to the audit log: ids, statuses and numbers only, never names. A Core insert,
    nothing the session has to track (it is written, never read back here)."""
    session.connection().execute(
        _INSERT_LOG,
        {
            "event_id": registration.event_id,
            "registration_id": registration.id,
            "actor_id": actor_id,
            "action": action,
            "detail": detail,
        },
    )


def waitlist_rank(session: Session, registration: Registration) -> int | None:
    """The place in line shown to a waiting person (1 = next), or None."""
    if (
        registration.status is not RegistrationStatus.WAITLISTED
        or registration.waitlist_position is None
    ):
        return None
    ahead = session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.waitlist_position < registration.waitlist_position,
        )
    )
    return (ahead or 0) + 1


def mail_registrant(
    session: Session,
    event: Event,
    registration: Registration,
    kind: MailKind,
    token: str | None = None,
) -> None:
    """Queue the registrant's mail in this transaction (events/mail/notify.py)."""
    queue_registration_mail(
        session,
        event,
        registration,
        kind,
        token=token,
        waitlist_rank=waitlist_rank(session, registration),
    )
