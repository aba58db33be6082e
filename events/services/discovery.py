"""Public discovery: upcoming and past public events, filtered by tag, community, venue,
date range and text, paginated. Drafts never appear.

Text search ignores accents and case both ways ("velo" finds "Vélo", "CAFÉ" finds "cafe")
and finds events whose title or description contains every word, in any order. It reads
the folded copy each event keeps (``Event.search_folded``, events/folding.py), within the
same status and time clauses as the rest of the list (upcoming or past public events):
the scan stays bounded by those rows, and the words by ``MAX_SEARCH_WORDS``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from events.errors import NotFound
from events.folding import fold
from events.lifecycle import is_over_clause, is_upcoming_clause
from events.models import Community, Event, EventStatus, Tag, Venue, event_tag

PAGE_SIZE = 20
MAX_PAGE = 10_000
#: A search looks for at most this many words, each cut to this length.
MAX_SEARCH_WORDS = 8
MAX_WORD_LENGTH = 100


@dataclass(frozen=True)
class EventFilters:
    tag: str = ""
    community: str = ""
    venue: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    past: bool = False
    page: int = 1

    @property
    def narrowing(self) -> int:
        """How many filters besides the search text are in use (the home page's
        "Filters · 2 in use")."""
        chosen = (self.tag, self.community, self.venue, self.date_from, self.date_to)
        return sum(1 for value in chosen if value)

    @property
    def active(self) -> bool:
        return bool(self.narrowing or self.q)


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    total: int
    page: int
    page_size: int = PAGE_SIZE
    filters: EventFilters = field(default_factory=EventFilters)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


def _filtered(filters: EventFilters, now: datetime) -> Select[Event]:
    statement = select(Event).where(Event.status != EventStatus.DRAFT)
    statement = (
        statement.where(is_over_clause(now))
        if filters.past
        else statement.where(is_upcoming_clause(now))
    )
    if filters.tag:
        statement = statement.where(
            Event.id.in_(
                select(event_tag.c.event_id)
                .join(Tag, Tag.id == event_tag.c.tag_id)
                .where(Tag.slug == filters.tag)
            )
        )
    if filters.community:
        statement = statement.join(Community, Community.id == Event.community_id).where(
            Community.slug == filters.community
        )
    if filters.venue:
        statement = statement.join(Venue, Venue.id == Event.venue_id).where(
            Venue.slug == filters.venue
        )
    if filters.date_from:
        statement = statement.where(
            Event.starts_at
            >= datetime.combine(filters.date_from, time(), tzinfo=UTC) - timedelta(hours=14)
        )  # the earliest zone's midnight; refined below
    if filters.date_to:
        statement = statement.where(
            Event.starts_at
            < datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=UTC)
            + timedelta(hours=12)
        )
    if filters.q:
        # Accents and case do not matter (events/folding.py); each word must appear.
        for word in fold(filters.q).split()[:MAX_SEARCH_WORDS]:
            statement = statement.where(
                Event.search_folded.contains(word[:MAX_WORD_LENGTH], autoescape=True)
            )
    return statement


def _local_day_ok(event: Event, filters: EventFilters) -> bool:
    """Date filters compare the event's *local* date, whatever its zone."""
    day = event.starts_at.astimezone(ZoneInfo(event.timezone)).date()
    return (filters.date_from is None or day >= filters.date_from) and (
        filters.date_to is None or day <= filters.date_to
    )


def find_events(session: Session, filters: EventFilters, *, now: datetime) -> EventPage:
    statement = _filtered(filters, now)
    page = min(max(filters.page, 1), MAX_PAGE)
    order = Event.starts_at.desc() if filters.past else Event.starts_at
    if filters.date_from or filters.date_to:
        # The SQL window is widened by the extreme UTC offsets; exact local-day filtering
        # happens here, on at most a few days' worth of extra rows.
        rows = [e for e in session.scalars(statement.order_by(order)) if _local_day_ok(e, filters)]
        total = len(rows)
        events = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        events = list(
            session.scalars(
                statement.order_by(order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
            )
        )
    return EventPage(events=events, total=total, page=page, filters=filters)


def popular_tags(session: Session, *, now: datetime, limit: int = 30) -> list[tuple[Tag, int]]:
    """Tags of upcoming public events, most used first (for filter chips and suggestions)."""
    rows = session.execute(
        select(Tag, func.count(event_tag.c.event_id))
        .join(event_tag, event_tag.c.tag_id == Tag.id)
        .join(Event, Event.id == event_tag.c.event_id)
        .where(Event.status != EventStatus.DRAFT, is_upcoming_clause(now))
        .group_by(Tag.id)
        .order_by(func.count(event_tag.c.event_id).desc(), Tag.slug)
        .limit(limit)
    )
    return [(tag, count) for tag, count in rows]


@dataclass(frozen=True)
class FilterChoices:
    """(slug, name) options for the discovery filters."""

    communities: list[tuple[str, str]]
    venues: list[tuple[str, str]]


def filter_choices(session: Session, filters: EventFilters, *, now: datetime) -> FilterChoices:
    """Communities and venues that have upcoming public events.

    The chosen value stays selectable even when nothing is upcoming there.
    """
    upcoming = (Event.status != EventStatus.DRAFT) & is_upcoming_clause(now)
    communities = [
        (slug, name)
        for slug, name in session.execute(
            select(Community.slug, Community.name)
            .join(Event, Event.community_id == Community.id)
            .where(upcoming)
            .distinct()
            .order_by(Community.name)
        )
    ]
    venues = [
        (slug, name)
        for slug, name in session.execute(
            select(Venue.slug, Venue.name)
            .join(Event, Event.venue_id == Venue.id)
            .where(upcoming)
            .distinct()
            .order_by(Venue.name)
        )
    ]
    for chosen, options in ((filters.community, communities), (filters.venue, venues)):
        if chosen and chosen not in {slug for slug, _name in options}:
            options.append((chosen, chosen))
    return FilterChoices(communities=communities, venues=venues)


def tag_by_slug(session: Session, slug: str) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        raise NotFound()
    return tag


def all_tags(session: Session, *, limit: int = 200) -> list[Tag]:
    return list(session.scalars(select(Tag).order_by(Tag.name).limit(limit)))
