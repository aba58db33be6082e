"""Mail to the author of a listing when someone writes to them, and one click to stop it.

Each request queues one mail (events/mail/notify.py, ``exchange_request``) to the
address of the author's registration, through the outbox and in their language: who
wrote is not said (only what their listing was and the message), and nothing in it
gives the requester's address. It carries a link that stops these mails for this board
at once (``/offers/stop/{token}``, a random secret made with the participant); the author
turns them back on in "How you appear". Queued in the request's transaction: a refused
request queues nothing; erasure and anonymisation delete queued mails with the rest.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from events.mail.notify import MailKind, queue_registration_mail
from events.models import Event, ExchangeContact, ExchangeParticipant, Registration
from events.models.base import table_of


def notify_author(session: Session, contact: ExchangeContact, author: ExchangeParticipant) -> None:
    """Queue the mail of ``contact`` to its ``author``, unless they stopped these mails.
    Reads the author's row, never writes it (see ``ExchangeParticipant.unsubscribe_token``)."""
    if not author.notify:
        return
    registration = session.get(Registration, author.registration_id)
    event = session.get(Event, registration.event_id) if registration is not None else None
    if registration is None or event is None:
        return
    queue_registration_mail(
        session,
        event,
        registration,
        MailKind.EXCHANGE_REQUEST,
        dedupe_key=f"exchange_request:{contact.id}",
        extra={
            "about": contact.about,
            "message": contact.message,
            "unsubscribe_token": author.unsubscribe_token,
        },
    )


def stop_notifications(session: Session, token: str) -> bool:
    """Stop the mails of the participant whose link holds ``token``; False when no link
    holds it (already used or erased: nothing to stop)."""
    if not token or len(token) > 64:
        return False
    table = table_of(ExchangeParticipant)
    stopped = session.execute(
        update(table).where(table.c.unsubscribe_token == token).values(notify=False)
    )
    return bool(stopped.rowcount)  # type: ignore[attr-defined]
