"""Render the queued mails, outside every write lock (the mail worker's job).

A mail is queued (events/mail/notify.py) with ``render_spec``: its kind, the registration
as it was, the one-time private link. :func:`prepare_outbox` claims a batch of them (so
the workers of several server processes never render the same mail), renders it in a
read session (subject, text, HTML, attachments, in the registrant's language; volunteers'
mails by events/mail/volunteers.py), then writes the results in one short write
transaction, taken in turn with the web processes' writers. A row erased meanwhile (an
erased registration deletes its mails) is skipped; one that cannot be rendered (its event
was deleted, a template failed) is marked failed with the reason, so the rest of the
queue goes on ("send again" tries it anew). The sender only sends rendered rows.

What the mail shows of the event (title, time, place, the ``.ics``) is read when it is
rendered, normally a second or so after the change: never older than the registration.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, lazyload

from events.calendar import calendar_feed, event_url
from events.clock import utcnow
from events.database import Database
from events.mail.community import is_community_mail, render_community_mail
from events.mail.i18n import format_moment, format_when, mail_locale, translations
from events.mail.notify import (
    SUBJECT_MAX_LENGTH,
    MailKind,
    Recipient,
    one_line,
    place_of,
    wake_worker_after_commit,
)
from events.mail.outbox import TRANSACTIONAL_FIRST, claim_rows
from events.mail.render import event_details, render
from events.mail.settings import MailSettings
from events.mail.volunteers import is_volunteer_mail, render_volunteer_mail
from events.models import Event, EventStatus, OutboxMessage, OutboxStatus, PersonalFeed
from events.models import RegistrationStatus as S
from events.models.base import table_of
from events.tickets import ticket_url
from events.tokens import new_token

log = logging.getLogger("rencontres.mail")

#: Mails rendered per write transaction.
PREPARE_BATCH = 100
#: How long a worker's claim keeps other workers off the rows it renders.
CLAIM_FOR = timedelta(minutes=2)

#: Kinds that carry the QR code when the registration is confirmed.
QR_KINDS = {
    MailKind.CONFIRMED,
    MailKind.PROMOTED,
    MailKind.APPROVED,
    MailKind.TICKET,
    MailKind.REMINDER,
    MailKind.LINKS,
}
#: Kinds that carry the event's ``.ics`` when the registration is confirmed.
ICS_KINDS = {MailKind.CONFIRMED, MailKind.PROMOTED, MailKind.APPROVED, MailKind.TICKET}
#: Kinds that always carry it (calendar apps update the entry by its UID).
EVENT_KINDS = {MailKind.EVENT_CHANGED, MailKind.EVENT_CANCELLED}


@dataclass
class Rendered:
    """One queued mail, rendered (or the reason it could not be)."""

    message_id: UUID
    subject: str = ""
    text_body: str = ""
    html_body: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: A personal calendar link the mail carries: (address, token), stored hashed.
    feed: tuple[str, str] | None = None
    #: One-click unsubscribe of a mail to a follower (events/mail/community.py) or of an
    #: offers & needs request mail (:func:`_one_click`).
    unsubscribe_url: str | None = None
    error: str = ""


def prepare_outbox(
    db: Database,
    settings: MailSettings,
    *,
    limit: int = PREPARE_BATCH,
    step_aside: Callable[[], object] | None = None,
) -> int:
    """Render up to ``limit`` queued mails with the links of ``settings``, bulk mails
    (reminders, event changes) after all others, oldest first; returns how many were
    written. ``step_aside`` is called before each mail: inside a server process, it waits
    for the process's writes (events/write_activity.py)."""
    claim = _claim(db, limit)
    if claim is None:
        return 0
    until, ids = claim
    with db.session() as session:
        messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))
        events = _events(session, {m.event_id for m in messages if m.event_id is not None})
        shared = SharedParts()
        rendered: list[Rendered] = []
        for message in messages:
            if step_aside is not None:
                step_aside()
            rendered.append(_render_safely(session, message, events, settings, shared))
    with db.queued_transaction() as session:
        return _store(session, rendered, until)


def _claim(db: Database, limit: int) -> tuple[datetime, list[UUID]] | None:
    """Claim up to ``limit`` unrendered rows for ``CLAIM_FOR`` (as the sender claims rows
    to send): each server process runs a worker, and without a claim every one of them
    rendered the same mails, only one of them keeping the result."""
    now = utcnow()
    until = now + CLAIM_FOR
    waiting = (
        OutboxMessage.render_spec.is_not(None),
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    order = (TRANSACTIONAL_FIRST, OutboxMessage.created_at, OutboxMessage.id)
    claimed = claim_rows(db, waiting, order, limit=limit, now=now, until=until)
    return (until, claimed) if claimed else None


def _events(session: Session, ids: set[UUID]) -> dict[UUID, Event]:
    # One query: venue and community come joined (the model's default); the tags only
    # when a mail's calendar attachment reads them, the cover never (no mail shows it).
    # Loading both with every batch cost a third of preparing a confirmation mail.
    found = session.scalars(
        select(Event).where(Event.id.in_(ids)).options(lazyload(Event.tags), lazyload(Event.cover))
    )
    return {event.id: event for event in found}


def _render_safely(
    session: Session,
    message: OutboxMessage,
    events: dict[UUID, Event],
    settings: MailSettings,
    shared: SharedParts,
) -> Rendered:
    if is_community_mail(message.render_spec):
        return _render_community(message, settings)
    event = events.get(message.event_id) if message.event_id else None
    if event is None:
        return Rendered(message.id, error="its event was deleted before the mail was written")
    try:
        return render_queued(session, message, event, settings, shared)
    except Exception as error:  # one broken mail must not hold up the others
        log.exception("mail %s could not be rendered", message.id)
        return Rendered(message.id, error=f"could not be written: {type(error).__name__}")


def _render_community(message: OutboxMessage, settings: MailSettings) -> Rendered:
    """A mail about a community's shared spaces (events/mail/community.py): no event."""
    try:
        mail = render_community_mail(message.render_spec or {}, settings)
    except Exception as error:  # one broken mail must not hold up the others
        log.exception("mail %s could not be rendered", message.id)
        return Rendered(message.id, error=f"could not be written: {type(error).__name__}")
    return Rendered(
        message.id,
        subject=mail.subject,
        text_body=mail.text_body,
        html_body=mail.html_body,
        unsubscribe_url=mail.unsubscribe_url,
    )


def render_queued(
    session: Session,
    message: OutboxMessage,
    event: Event,
    settings: MailSettings,
    shared: SharedParts,
) -> Rendered:
    """The mail ``message.render_spec`` describes, about ``event`` as it is now;
    ``shared`` keeps what the other mails of the batch about the same event reuse."""
    spec = message.render_spec or {}
    if is_volunteer_mail(spec):
        body = render_volunteer_mail(
            session,
            spec,
            event,
            settings,
            lambda locale: shared.event_view(session, event, locale, settings),
        )
        return Rendered(
            message.id, subject=body.subject, text_body=body.text_body, html_body=body.html_body
        )
    kind = MailKind(spec["kind"])
    recipient = Recipient.from_spec(spec["recipient"])
    token = spec.get("token")
    locale = mail_locale(recipient.locale)
    code = recipient.ticket_code
    confirmed = recipient.status is S.CONFIRMED and code is not None
    ticket = ticket_url(settings.base_url, code) if code is not None and confirmed else ""
    with_qr = confirmed and kind in QR_KINDS
    qr_cid = f"ticket-{recipient.id.hex}@rencontres" if with_qr else ""
    private = settings.url(f"/r/{token}") if token else ""
    # Mails that carry the private link also carry a personal calendar feed: a new link
    # each time (only hashes are stored), revocable from the private page.
    feed: tuple[str, str] | None = None
    if token and recipient.status.is_active and kind is not MailKind.FEEDBACK:
        feed = (recipient.email, new_token())
    context = {
        "kind": kind.value,
        "locale": locale,
        "name": recipient.name,
        "guests": recipient.guests,
        "status": recipient.status.value,
        "event": shared.event_view(session, event, locale, settings),
        "ticket_url": ticket,
        "qr_cid": qr_cid,
        "private_url": private,
        "confirm_url": f"{private}/confirm" if token else "",
        "feedback_url": f"{private}/feedback" if token else "",
        "feed_url": settings.url(f"/me/{feed[1]}/feed.ics") if feed else "",
        "hold_expires": format_moment(recipient.hold_expires_at, event.timezone, locale)
        if recipient.hold_expires_at
        else "",
        "waitlist_rank": spec.get("waitlist_rank"),
        "changes": tuple(spec.get("changes") or ()),
        "previous": spec.get("previous") or {},
        "extra": spec.get("extra") or {},
        "site_url": settings.url(""),
    }
    text, html = render(kind.value, locale, context)
    attachments: list[dict[str, Any]] = []
    if with_qr:  # the sender draws the QR image from the URL (about 9 ms, once per send)
        attachments.append(
            {
                "filename": "ticket.png",
                "content_type": "image/png",
                "content_id": qr_cid,
                "qr": ticket,
            }
        )
    if kind in EVENT_KINDS or (confirmed and kind in ICS_KINDS):
        attachments.append(shared.ics(event, settings))
    return Rendered(
        message.id,
        subject=_subject(kind, locale, event.title, recipient),
        text_body=text,
        html_body=html,
        attachments=attachments,
        feed=feed,
        unsubscribe_url=_one_click(kind, spec.get("extra") or {}, settings),
    )


def _one_click(kind: MailKind, extra: dict[str, Any], settings: MailSettings) -> str | None:
    """The one-click unsubscribe address (RFC 8058) of a mail that has one: the offers &
    needs request mails, stopped by their ``/offers/stop/{token}`` secret
    (events/services/exchange_notifications.py). Mails about one's own registration have
    none: they are not a subscription."""
    token = extra.get("unsubscribe_token")
    if kind is MailKind.EXCHANGE_REQUEST and token:
        return settings.url(f"/offers/stop/{token}/one-click")
    return None


def _store(session: Session, results: list[Rendered], until: datetime) -> int:
    """Write the results whose rows are still ours and still wait for them; returns how
    many. Rows erased meanwhile, or whose claim expired and went to another worker, are
    left alone (locked first on PostgreSQL, where two workers may get here at once)."""
    waiting = set(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.id.in_([result.message_id for result in results]),
                OutboxMessage.render_spec.is_not(None),
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.claimed_until == until,
            )
            .with_for_update()
        )
    )
    mine = [result for result in results if result.message_id in waiting]
    table = table_of(OutboxMessage)
    rendered = [
        {
            "message_id": result.message_id,
            "new_subject": result.subject,  # one line and cut to size by _subject
            "new_text_body": result.text_body,
            "new_html_body": result.html_body,
            "new_attachments": result.attachments,
            "new_unsubscribe_url": result.unsubscribe_url,
        }
        for result in mine
        if not result.error
    ]
    if rendered:  # one statement, many rows
        session.execute(
            update(table)
            .where(table.c.id == bindparam("message_id"))
            .values(
                subject=bindparam("new_subject"),
                text_body=bindparam("new_text_body"),
                html_body=bindparam("new_html_body"),
                attachments=bindparam("new_attachments", type_=table.c.attachments.type),
                unsubscribe_url=bindparam("new_unsubscribe_url"),
                render_spec=None,
                claimed_until=None,
            ),
            rendered,
        )
    failed = [
        {"message_id": result.message_id, "new_error": result.error}
        for result in mine
        if result.error
    ]
    if failed:  # still unrendered, so never sent; "send again" renders it anew
        session.execute(
            update(table)
            .where(table.c.id == bindparam("message_id"))
            .values(
                status=OutboxStatus.FAILED, last_error=bindparam("new_error"), claimed_until=None
            ),
            failed,
        )
    for result in mine:
        if result.feed is not None and not result.error:
            session.add(PersonalFeed.for_token(*result.feed))
    if rendered:  # sendable now, whichever thread of this process rendered them
        wake_worker_after_commit(session)
    return len(mine)


def _subject(kind: MailKind, locale: str, title: str, recipient: Recipient) -> str:
    _ = translations(locale).gettext
    approved_waiting = kind is MailKind.APPROVED and recipient.status is S.WAITLISTED
    subjects = {
        MailKind.CONFIRMED: _("Your place at %(title)s"),
        MailKind.WAITLISTED: _("You are on the waiting list for %(title)s"),
        MailKind.PENDING_APPROVAL: _("Your registration for %(title)s awaits approval"),
        MailKind.CONFIRM_EMAIL: _("Confirm your registration for %(title)s"),
        MailKind.LINKS: _("Your links for %(title)s"),
        MailKind.PROMOTED: _("A place opened up: you are in for %(title)s"),
        MailKind.APPROVED: _("Approved: you are on the waiting list for %(title)s")
        if approved_waiting
        else _("Approved: your place at %(title)s"),
        MailKind.DECLINED: _("Your registration for %(title)s was declined"),
        MailKind.CANCELLED: _("Your registration for %(title)s is cancelled"),
        MailKind.TICKET: _("Your new ticket for %(title)s"),
        MailKind.EVENT_CHANGED: _("New time or place: %(title)s"),
        MailKind.EVENT_CANCELLED: _("Cancelled: %(title)s"),
        MailKind.REMINDER: _("Reminder: %(title)s"),
        MailKind.FEEDBACK: _("How was %(title)s?"),
        MailKind.EXCHANGE_REQUEST: _("Someone is interested in your listing: %(title)s"),
    }
    return one_line(subjects[kind] % {"title": one_line(title)})[:SUBJECT_MAX_LENGTH]


@dataclass
class SharedParts:
    """What every mail of a batch about one event shares, computed once: the event's
    details in each language, its calendar attachment. A burst of registrations, or an
    event change mailing everyone, is mostly mails about one event."""

    _views: dict[tuple[UUID, str], dict[str, Any]] = field(default_factory=dict)
    _ics: dict[UUID, dict[str, Any]] = field(default_factory=dict)

    def event_view(
        self, session: Session, event: Event, locale: str, settings: MailSettings
    ) -> dict[str, Any]:
        key = (event.id, locale)
        if key not in self._views:
            self._views[key] = _event_view(session, event, locale, settings)
        return self._views[key]

    def ics(self, event: Event, settings: MailSettings) -> dict[str, Any]:
        if event.id not in self._ics:
            self._ics[event.id] = _ics_attachment(event, settings)
        return self._ics[event.id]


def _event_view(
    session: Session, event: Event, locale: str, settings: MailSettings
) -> dict[str, Any]:
    url = event_url(event, settings.base_url)
    view = {
        "title": event.title,
        "community": event.community.name,
        "when": format_when(event.starts_at, event.ends_at, event.timezone, locale),
        "timezone": event.timezone,
        "url": url,
        "ics_url": f"{url}.ics",
        "resend_url": f"{url}/resend",
        "cancelled": event.status is EventStatus.CANCELLED,
        "cancel_reason": event.cancel_reason or "",
        **place_of(session, event),
    }
    view["details_text"], view["details_html"] = event_details(locale, view)
    return view


def _ics_attachment(event: Event, settings: MailSettings) -> dict[str, Any]:
    """The event as the ``/e/{slug}.ics`` download serves it (same UID as the feeds)."""
    data = calendar_feed(
        [event],
        name=event.title,
        description="",
        base_url=settings.base_url,
        url=event_url(event, settings.base_url),
    )
    return {
        "filename": f"{event.slug}.ics",
        "content_type": "text/calendar",
        "data": base64.b64encode(data).decode("ascii"),
    }
