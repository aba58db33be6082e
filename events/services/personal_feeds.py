"""Personal calendar feeds (``/me/{token}/feed.ics``): everything one e-mail address
registered for, in one subscribable calendar.

Each confirmation mail carries a new link (only its hash is stored, so an earlier link
cannot be mailed again); the links of an address keep working until the attendee revokes
them all from their private page, up to ``MAX_FEED_LINKS`` per address (the oldest goes
beyond that). Confirmed places are CONFIRMED, waitlisted and pending
ones TENTATIVE, cancelled or declined registrations CANCELLED (so calendars drop them), for
as long as public feeds keep past events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from events.calendar import RETENTION
from events.errors import NotFound
from events.models import Event, EventStatus, PersonalFeed, Registration, RegistrationStatus
from events.tokens import hash_token, new_token

S = RegistrationStatus
STATUS = {
    S.CONFIRMED: "CONFIRMED",
    S.WAITLISTED: "TENTATIVE",
    S.PENDING_APPROVAL: "TENTATIVE",
    S.PENDING_EMAIL: "TENTATIVE",
    S.CANCELLED: "CANCELLED",
    S.DECLINED: "CANCELLED",
}
#: A token never exceeds this; longer input is not a token (and is not hashed).
MAX_TOKEN_LENGTH = 100
#: Feed links kept per address. Every confirmation mail carries a new one (only hashes are
#: stored, so an old one cannot be mailed again); a regular attendee gets a few a month, so
#: this keeps years of subscriptions working while bounding what one address can pile up.
MAX_FEED_LINKS = 100


@dataclass(frozen=True)
class PersonalCalendar:
    email: str
    events: list[Event]
    #: STATUS per event id.
    statuses: dict[UUID, str]


def issue_feed_token(session: Session, email: str) -> str:
    """A new personal-feed link token for ``email`` (returned once, stored hashed)."""
    token = new_token()
    store_feed_token(session, email, token)
    session.flush()
    return token


def store_feed_token(session: Session, email: str, token: str) -> None:
    """Make ``token`` (made by the caller, e.g. for a mail being written) open the
    personal feed of ``email``; only its hash is stored. An address keeps at most
    ``MAX_FEED_LINKS`` links: the oldest goes when a new one would pass that."""
    address = email.lower()
    session.add(PersonalFeed.for_token(address, token))
    session.flush()
    newest = (
        select(PersonalFeed.id)
        .where(PersonalFeed.email == address)
        .order_by(PersonalFeed.created_at.desc(), PersonalFeed.id.desc())
        .limit(MAX_FEED_LINKS)
    )
    session.execute(
        delete(PersonalFeed).where(
            PersonalFeed.email == address, PersonalFeed.id.not_in(newest.scalar_subquery())
        )
    )


def count_feed_tokens(session: Session, email: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(PersonalFeed)
            .where(PersonalFeed.email == email.lower())
        )
        or 0
    )


def revoke_feed_tokens(session: Session, email: str) -> int:
    """Stop every personal-feed link of ``email``; returns how many there were."""
    result = session.execute(delete(PersonalFeed).where(PersonalFeed.email == email.lower()))
    return int(getattr(result, "rowcount", 0) or 0)


def _email_for(session: Session, token: str | None) -> str:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound()
    email = session.scalar(
        select(PersonalFeed.email).where(PersonalFeed.token_hash == hash_token(token))
    )
    if email is None:
        raise NotFound()
    return email


def _rank(registration: Registration) -> tuple[int, float]:
    # When an address registered twice (cancelled, then again), the active one wins.
    return (0 if registration.status.is_active else 1, -registration.created_at.timestamp())


def personal_calendar(session: Session, token: str | None, *, now: datetime) -> PersonalCalendar:
    """What the feed behind ``token`` lists; NotFound for an unknown or revoked token."""
    email = _email_for(session, token)
    registrations = session.scalars(
        select(Registration)
        .options(joinedload(Registration.event).selectinload(Event.programme))
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.email == email,
            Event.status != EventStatus.DRAFT,
            Event.ends_at >= now - RETENTION,
        )
    ).all()
    chosen: dict[UUID, Registration] = {}
    for registration in sorted(registrations, key=_rank):
        chosen.setdefault(registration.event_id, registration)
    return PersonalCalendar(
        email=email,
        events=[registration.event for registration in chosen.values()],
        statuses={event_id: STATUS[r.status] for event_id, r in chosen.items()},
    )
