"""Queue mails in the caller's transaction: the domain services call these, never commit.

Each function adds an :class:`~events.models.OutboxMessage` to the session holding what the
mail must say (``render_spec``: its kind, the registration as it is now, the one-time
private link); if the caller's transaction rolls back, the mail disappears with the change.
Once committed, the mail worker renders it (:mod:`events.mail.prepare`: subject, text,
HTML, attachments, in the registrant's language) and the sender (:mod:`events.mail.sender`)
delivers it, retrying through outages. Rendering is kept out of the caller's transaction:
it was a third of a registration's time inside the write lock (docs/performance.md).

Links in mails (``B`` = ``BASE_URL``):

- ticket: ``B/t/{ticket_code}`` (what the QR code encodes, :func:`events.tickets.ticket_url`);
- private page: ``B/r/{manage_token}``, only in mails sent when the token is known (the
  registration, the e-mail confirmation, "resend my links"): only its hash is stored;
- e-mail confirmation (``confirm_email_first``): ``B/r/{manage_token}/confirm``;
- event page ``B/e/{slug}`` and its calendar file ``B/e/{slug}.ics``.

Attachments: mails carrying a ticket get the QR code as an inline PNG (``Content-ID``,
shown by the HTML body) and the event as an ``.ics`` file whose UID is the feeds' UID
(:func:`events.calendar.event_uid`). The QR image is a pure function of the ticket URL, so
the rendered row stores the URL (``{"qr": url}``) and the sender draws it (about 9 ms);
everything else is stored as it is sent.
"""

from __future__ import annotations

import enum
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.mail.i18n import format_when, mail_locale
from events.models import (
    Event,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Venue,
)
from events.models.base import new_id, table_of
from events.validation import is_placeholder_email

S = RegistrationStatus
SUBJECT_MAX_LENGTH = 300
#: Set after a commit that queued or rendered mail, so an in-process worker wakes up.
outbox_committed = threading.Event()
_QUEUED_FLAG = "rencontres.mail_queued"
_INSERT_OUTBOX = insert(table_of(OutboxMessage))
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class MailKind(enum.StrEnum):
    #: A confirmed place, with the ticket (registration, or e-mail confirmed).
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    PENDING_APPROVAL = "pending_approval"
    #: "Click to confirm your address" (events with ``confirm_email_first``).
    CONFIRM_EMAIL = "confirm_email"
    #: The private link again (a second registration with the same address, "resend").
    LINKS = "links"
    #: A place freed up and the waiting party got it.
    PROMOTED = "promoted"
    #: An organiser approved the registration (confirmed, or waitlisted when full).
    APPROVED = "approved"
    DECLINED = "declined"
    #: Receipt of the registrant's own cancellation.
    CANCELLED = "cancelled"
    #: A new ticket code (the old one stopped working).
    TICKET = "ticket"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    REMINDER = "reminder"
    #: After the event, to those let in at the door: the feedback form (one per ticket).
    FEEDBACK = "feedback"
    #: Someone wrote to the author of an offers & needs listing (the message relayed).
    EXCHANGE_REQUEST = "exchange_request"


#: Mails written to many people at once (every attendee of an event, every reminder of the
#: day): sent after every other mail waiting, so a backlog of them never delays the mail
#: someone is waiting for now (a confirmation, a link, a ticket).
BULK_KINDS = frozenset({MailKind.REMINDER, MailKind.EVENT_CHANGED, MailKind.EVENT_CANCELLED})

#: Who hears about a change or a cancellation of the event: everyone with a place, in
#: line, or awaiting approval (unconfirmed addresses are not written to).
EVENT_AUDIENCE = (S.CONFIRMED, S.WAITLISTED, S.PENDING_APPROVAL)


@dataclass(frozen=True)
class Recipient:
    """The registration a mail is about, as it was when the mail was queued: a mail says
    what happened then, even if the registration changes before the worker renders it."""

    id: UUID
    name: str
    email: str
    guests: int
    status: RegistrationStatus
    ticket_code: str | None
    hold_expires_at: datetime | None
    locale: str

    @classmethod
    def of(cls, registration: Registration) -> Recipient:
        return cls(
            id=registration.id,
            name=registration.name,
            email=registration.email,
            guests=registration.guests,
            status=registration.status,
            ticket_code=registration.ticket_code,
            hold_expires_at=registration.hold_expires_at,
            locale=registration.locale,
        )

    def to_spec(self) -> dict[str, Any]:
        hold = self.hold_expires_at
        return {
            "id": self.id.hex,
            "name": self.name,
            "email": self.email,
            "guests": self.guests,
            "status": self.status.value,
            "ticket_code": self.ticket_code,
            "hold_expires_at": hold.isoformat() if hold else None,
            "locale": self.locale,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Recipient:
        hold = spec.get("hold_expires_at")
        return cls(
            id=UUID(spec["id"]),
            name=spec["name"],
            email=spec["email"],
            guests=int(spec["guests"]),
            status=RegistrationStatus(spec["status"]),
            ticket_code=spec.get("ticket_code"),
            hold_expires_at=datetime.fromisoformat(hold) if hold else None,
            locale=spec.get("locale") or "",
        )


def one_line(value: str) -> str:
    """Text fit for a header: control characters and line breaks become single spaces."""
    return " ".join(_NOT_ONE_LINE.sub(" ", value or "").split())


def current_venue(session: Session, event: Event) -> Venue | None:
    """The event's venue, reloaded if ``venue_id`` was edited in this transaction (the
    relationship still holds the old one then)."""
    venue = event.venue
    if (venue.id if venue is not None else None) != event.venue_id:
        session.expire(event, ["venue"])
        venue = event.venue
    return venue


def place_of(session: Session, event: Event) -> dict[str, str]:
    venue = current_venue(session, event)
    return {
        "venue_name": venue.name if venue else "",
        "venue_address": venue.address if venue else "",
        "online_url": event.online_url or "",
    }


def enqueue(
    session: Session,
    *,
    kind: str,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    attachments: list[dict[str, Any]] | None = None,
    community_id: Any = None,
    event_id: Any = None,
    registration_id: Any = None,
    dedupe_key: str | None = None,
    render_spec: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> UUID:
    """Add one mail to the outbox in ``session``'s transaction (not committed): rendered,
    or with the ``render_spec`` the worker renders it from; returns its id. A Core insert:
    the session never reads the row back, and tracking it was a tenth of a registration."""
    message_id = new_id()
    session.connection().execute(
        _INSERT_OUTBOX,  # built once: see events/services/registrations.py
        {
            "id": message_id,
            "kind": kind,
            "to_address": to_address,
            "subject": one_line(subject)[:SUBJECT_MAX_LENGTH],
            "text_body": text_body,
            "html_body": html_body,
            "attachments": attachments or [],
            "community_id": community_id,
            "event_id": event_id,
            "registration_id": registration_id,
            "dedupe_key": dedupe_key,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now or utcnow(),
            "last_error": "",
            "render_spec": render_spec,
        },
    )
    wake_worker_after_commit(session)
    return message_id


def wake_worker_after_commit(session: Session) -> None:
    """Wake this process's mail worker once ``session`` commits (it has mail to render
    or to send)."""
    session.info[_QUEUED_FLAG] = True


def queue_registration_mail(
    session: Session,
    event: Event,
    registration: Registration,
    kind: MailKind,
    *,
    token: str | None = None,
    waitlist_rank: int | None = None,
    changes: tuple[str, ...] = (),
    previous: dict[str, str] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    extra: dict[str, str] | None = None,
) -> UUID | None:
    """Queue a ``kind`` mail to ``registration`` about ``event``, rendered later by the
    mail worker from the registration as it is now.

    ``token`` (the manage token, known only when it was just issued) adds the private
    link, and is required for :attr:`MailKind.CONFIRM_EMAIL`. ``extra`` holds what a kind
    says beyond the registration (the relayed message of :attr:`MailKind.EXCHANGE_REQUEST`).
    """
    if kind is MailKind.CONFIRM_EMAIL and not token:
        raise ValueError("a confirmation mail needs the manage token")
    if is_placeholder_email(registration.email):
        return None  # a walk-in without an address, or an erased registrant
    spec = {
        "kind": kind.value,
        "recipient": Recipient.of(registration).to_spec(),
        "token": token,
        "waitlist_rank": waitlist_rank,
        "changes": list(changes),
        "previous": previous or {},
        "extra": extra or {},
    }
    return enqueue(
        session,
        kind=kind.value,
        to_address=registration.email,
        subject="",
        text_body="",
        render_spec=spec,
        community_id=event.community_id,
        event_id=event.id,
        registration_id=registration.id,
        dedupe_key=dedupe_key,
        now=now,
    )


def _audience(session: Session, event: Event) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status.in_(EVENT_AUDIENCE))
            .order_by(Registration.created_at)
        )
    )


def queue_event_changed(
    session: Session, event: Event, *, changes: tuple[str, ...], previous: dict[str, str]
) -> int:
    """Tell everyone concerned that the event moved (``changes``: "time" and/or "place");
    ``previous`` holds the old ``when`` (UTC ISO start/end and zone) and place fields."""
    audience = _audience(session, event)
    for registration in audience:
        locale = mail_locale(registration.locale)
        shown = dict(previous)
        if "starts_at" in previous:
            shown["when"] = format_when(
                datetime.fromisoformat(previous["starts_at"]),
                datetime.fromisoformat(previous["ends_at"]),
                previous.get("timezone") or event.timezone,
                locale,
            )
        queue_registration_mail(
            session,
            event,
            registration,
            MailKind.EVENT_CHANGED,
            changes=changes,
            previous=shown,
        )
    return len(audience)


def queue_event_cancelled(session: Session, event: Event) -> int:
    """Tell everyone concerned that the event is cancelled (with the organisers' reason)."""
    audience = _audience(session, event)
    for registration in audience:
        queue_registration_mail(session, event, registration, MailKind.EVENT_CANCELLED)
    return len(audience)


@sa_event.listens_for(Session, "after_commit")
def _wake_sender(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is visible yet
        return
    if session.info.pop(_QUEUED_FLAG, False):
        outbox_committed.set()


@sa_event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: other mails of the batch stay queued
        return
    session.info.pop(_QUEUED_FLAG, None)
