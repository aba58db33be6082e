"""What the public JSON API lists: events with filters and cursors, venues, series.

The rules:

* Drafts never appear; ``status`` narrows to ``published`` or ``cancelled``.
* Events come in one stable order, ``(starts_at, id)``, and a page ends with a cursor that
  names the last event seen: the next page starts strictly after it, so an event added or
  changed meanwhile never makes a page repeat or skip one that did not move.
* Without ``from`` or ``updated_since``, only events not yet over are listed (the same
  boundary as the pages: events/lifecycle.py); ``from``/``to`` select events overlapping
  that window; ``updated_since`` selects events changed at or after that instant (for
  clients that keep a copy in sync).
* A series' next occurrences are its public events not yet over.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, lazyload, selectinload

from events.errors import NotFound, ValidationFailed
from events.lifecycle import is_upcoming_clause
from events.models import Community, Event, EventStatus, Series, Tag, Venue, event_tag

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
NEXT_OCCURRENCES = 5
PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


@dataclass(frozen=True)
class EventQuery:
    community: str = ""
    series: str = ""
    tag: str = ""
    venue: str = ""
    starts_from: datetime | None = None
    ends_to: datetime | None = None
    updated_since: datetime | None = None
    status: str = ""
    cursor: str = ""
    limit: int = DEFAULT_LIMIT
    #: The organiser API: drafts too (the caller limits ``community`` to its own).
    include_drafts: bool = False


@dataclass(frozen=True)
class EventSlice:
    events: list[Event]
    #: Where the next page starts, or None on the last page.
    next_cursor: str | None


def encode_cursor(event: Event) -> str:
    raw = f"{event.starts_at.isoformat()}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, _sep, ident = base64.urlsafe_b64decode(padded).decode().partition("|")
        starts_at = datetime.fromisoformat(moment)
        if starts_at.tzinfo is None:
            raise ValueError(cursor)
        return starts_at, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed({"cursor": "invalid_cursor"}) from None


def _aware(field: str, moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValidationFailed({field: "timezone_required"})
    return moment


def _selected(query: EventQuery, now: datetime) -> Select[Event]:
    statement = select(Event).options(
        lazyload(Event.cover), selectinload(Event.tags), selectinload(Event.series)
    )
    shown = tuple(EventStatus) if query.include_drafts else PUBLIC_STATUSES
    if query.status:
        if query.status not in {status.value for status in shown}:
            raise ValidationFailed({"status": "invalid_choice"})
        statement = statement.where(Event.status == EventStatus(query.status))
    else:
        statement = statement.where(Event.status.in_(shown))
    starts_from = _aware("from", query.starts_from)
    ends_to = _aware("to", query.ends_to)
    updated_since = _aware("updated_since", query.updated_since)
    if starts_from is not None:
        statement = statement.where(Event.ends_at > starts_from)
    elif updated_since is None:
        statement = statement.where(is_upcoming_clause(now))
    if ends_to is not None:
        statement = statement.where(Event.starts_at < ends_to)
    if updated_since is not None:
        statement = statement.where(Event.updated_at >= updated_since)
    if query.community:
        statement = statement.where(
            Event.community_id.in_(select(Community.id).where(Community.slug == query.community))
        )
    if query.series:
        statement = statement.where(
            Event.series_id.in_(select(Series.id).where(Series.slug == query.series))
        )
    if query.venue:
        statement = statement.where(
            Event.venue_id.in_(select(Venue.id).where(Venue.slug == query.venue))
        )
    if query.tag:
        statement = statement.where(
            Event.id.in_(
                select(event_tag.c.event_id)
                .join(Tag, Tag.id == event_tag.c.tag_id)
                .where(Tag.slug == query.tag)
            )
        )
    return statement


def list_events(session: Session, query: EventQuery, *, now: datetime) -> EventSlice:
    """One page of public events (see the module docstring)."""
    limit = min(max(query.limit, 1), MAX_LIMIT)
    statement = _selected(query, now)
    if query.cursor:
        starts_at, ident = decode_cursor(query.cursor)
        statement = statement.where(
            or_(Event.starts_at > starts_at, and_(Event.starts_at == starts_at, Event.id > ident))
        )
    rows = list(session.scalars(statement.order_by(Event.starts_at, Event.id).limit(limit + 1)))
    events = rows[:limit]
    return EventSlice(events, encode_cursor(events[-1]) if len(rows) > limit else None)


def public_event(session: Session, slug: str) -> Event:
    """One public event with its programme; ``NotFound`` for a draft or unknown slug."""
    event = session.scalar(
        select(Event)
        .where(Event.slug == slug)
        .options(selectinload(Event.programme), lazyload(Event.cover), selectinload(Event.series))
    )
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound()
    return event


def list_venues(session: Session, community: str = "") -> list[Venue]:
    statement = select(Venue).order_by(Venue.name, Venue.id).limit(1000)
    if community:
        statement = statement.where(
            Venue.community_id.in_(select(Community.id).where(Community.slug == community))
        )
    return list(session.scalars(statement))


def venue_by_slug(session: Session, slug: str) -> Venue:
    venue = session.scalar(select(Venue).where(Venue.slug == slug))
    if venue is None:
        raise NotFound()
    return venue


def list_series(session: Session, community: str = "") -> list[Series]:
    statement = select(Series).order_by(Series.title, Series.id).limit(1000)
    if community:
        statement = statement.where(
            Series.community_id.in_(select(Community.id).where(Community.slug == community))
        )
    return list(session.scalars(statement))


def series_by_slug(session: Session, slug: str) -> Series:
    series = session.scalar(select(Series).where(Series.slug == slug))
    if series is None:
        raise NotFound()
    return series


def next_occurrences(
    session: Session, series: Series, *, now: datetime, limit: int = NEXT_OCCURRENCES
) -> list[Event]:
    """The series' public events not yet over, soonest first."""
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.series_id == series.id,
                Event.status.in_(PUBLIC_STATUSES),
                is_upcoming_clause(now),
            )
            .options(lazyload(Event.cover), lazyload(Event.tags))
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )
