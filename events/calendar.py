"""iCalendar feeds: one VEVENT per public event, served from cached serialised blocks.

Identity. Every event has one UID forever, :func:`event_uid` (``event-<uuid>@rencontres``).
It names the row, not the host, so moving the site to another domain does not duplicate
every event in subscribers' calendars. The same UID is used in feeds, in the single-event
``.ics`` download and in e-mailed invitations.

Recurring series. Each occurrence is its own VEVENT, without RRULE/EXDATE/RECURRENCE-ID.
Occurrences are materialised rows already: a moved, skipped or cancelled occurrence is
just a row with its own times, status and SEQUENCE. Explicit VEVENTs read the same in
every client (Google, Apple, Outlook, Thunderbird/ical.js, khal), whereas the handling of
RECURRENCE-ID overrides, EXDATEs and SEQUENCE on overrides differs between them, and a
rule-based master would have to be re-derived from rows that were edited on their own.

Programme. An event's DESCRIPTION lists its programme (one line per session), so
calendars show the evening's sessions as they settle (an open-space board places them
during the event); a programme change bumps the event's revision (events/services/programme.py),
so SEQUENCE goes up and the feeds' fingerprint (the event's ``updated_at``) changes.

Determinism. Nothing here reads the clock: DTSTAMP and LAST-MODIFIED are the row's
``updated_at``, SEQUENCE is its ``revision``. The same data always gives the same bytes,
which is what makes ETags and conditional GETs work.

Speed. icalendar needs about 0.5 ms to build and serialise one VEVENT. A feed is therefore
assembled from bytes: the calendar header, one VTIMEZONE per zone (cached per zone and
year range) and one VEVENT block per event, cached in-process and keyed by
:func:`block_key`, the exact values the block is made of (so a stale block cannot be
served: any change to the event, its venue, its community or its tags gives another key).
:func:`full_build` builds the same calendar with icalendar objects only; the tests prove
that the two agree byte for byte.

Timezones. VTIMEZONEs come from :mod:`events.ical_timezones` (yearly RRULE blocks): the
ones icalendar's ``add_missing_timezones()`` writes list transitions as comma-separated
RDATEs, which ical.js reads wrongly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress, vCategory, vText
from icalendar import Event as VEvent
from sqlalchemy import ColumnElement, Select, String, func, inspect, or_, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session, defaultload, object_session, selectinload

from events.ical_timezones import add_timezones, vtimezone
from events.models import Community, Event, EventStatus, ProgrammeItem, Tag, Venue, event_tag

__all__ = [
    "PRODID",
    "RETENTION",
    "EventFacts",
    "FeedScope",
    "FeedState",
    "ShiftEntry",
    "block_key",
    "calendar_feed",
    "event_uid",
    "event_url",
    "feed_events",
    "feed_state",
    "full_build",
    "recently_updated",
    "shifts_calendar",
    "vevent_block",
    "vevent_for",
]

PRODID = "-//Rencontres//Rencontres//EN"
UID_DOMAIN = "rencontres"
#: How long past events, and cancelled ones after their cancellation, stay in feeds.
RETENTION = timedelta(days=60)
REFRESH_INTERVAL = timedelta(hours=1)
PUBLISHED_TTL = "PT1H"
#: Cached VEVENT blocks (one per event and version); a few KB each at most.
BLOCK_CACHE_SIZE = 20_000
_END = b"END:VCALENDAR\r\n"
#: Control characters (Cc) other than tab and newline, and lone surrogates (Cs).
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def event_uid(event: Event) -> str:
    """The event's UID, the same in feeds, downloads and e-mails, on any domain."""
    return f"event-{event.id}@{UID_DOMAIN}"


def event_url(event: Event, base_url: str) -> str:
    """The event's public page."""
    return f"{base_url.rstrip('/')}/e/{event.slug}"


def _text(value: str | None) -> str:
    """Text as RFC 5545 TEXT allows it: no control characters except tab and newline.

    Services already refuse other control characters; this keeps a feed valid even for
    rows written some other way. CR and CRLF become LF (escaped as ``\\n``).
    """
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_TEXT.sub("", value)


def _one_line(value: str) -> str:
    """Lines joined with ", " (a multi-line address for LOCATION), blank lines dropped."""
    parts = (part.strip() for part in _text(value).split("\n"))
    return ", ".join(part for part in parts if part)


def _parameter(value: str) -> str:
    """A property parameter value (CN): one line, without the characters parsers disagree
    on. RFC 5545 forbids a double quote there; a backslash is allowed, but icalendar (and
    others) read ``CN=a\\:mailto:...`` as an escaped colon."""
    return _one_line(value).replace('"', "'").replace("\\", "/")


#: A SELECT of any columns (Select is generic in the tuple of its column types).
_AnySelect = TypeVar("_AnySelect", bound="Select[*tuple[Any, ...]]")

_TEXT_ESCAPES = {"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"}
_TO_ESCAPE = re.compile(r"[\\;,\n]")


class Text(vText):
    """A TEXT value escaped exactly as RFC 5545 §3.3.11 says, in one pass.

    icalendar 7.3's ``vText`` first turns a literal backslash-N of the text into a line
    break (its documented shorthand), so ``C:\\New`` would reach calendars as two lines.
    """

    __slots__ = ()

    def to_ical(self) -> bytes:
        escaped = _TO_ESCAPE.sub(lambda m: _TEXT_ESCAPES[m.group()], str(self))
        return escaped.encode(str(getattr(self, "encoding", "utf-8")))


class Categories(vCategory):
    """CATEGORIES whose names are escaped like :class:`Text`."""

    def __init__(self, names: Iterable[str]) -> None:
        names = list(names)
        super().__init__(names)
        self.cats = [Text(name) for name in names]


@dataclass(frozen=True, slots=True)
class EventFacts:
    """Everything a VEVENT block is made of: equal facts give identical blocks."""

    uid: str
    summary: str
    description: str
    location: str
    url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    #: CONFIRMED, TENTATIVE (a personal feed's waitlisted or pending place) or CANCELLED.
    status: str
    sequence: int
    stamp: datetime
    created: datetime | None
    geo: tuple[float, float] | None
    categories: tuple[str, ...]
    organizer_name: str
    organizer_address: str


def block_key(event: Event, base_url: str, status: str | None = None) -> EventFacts:
    """The cache key of the event's VEVENT block: the exact values the block is made of.

    ``status`` overrides the STATUS a public feed shows (personal feeds: TENTATIVE for a
    waitlisted place, CANCELLED for a cancelled registration). Computing the key costs
    microseconds; building the block with icalendar costs about 0.5 ms.
    """
    url = event_url(event, base_url)
    text = _text(event.description_text).strip()
    programme = _programme_text(event)
    if programme:
        text = f"{text}\n\n{programme}" if text else programme
    venue = event.venue
    if venue is not None:
        location = _one_line(f"{venue.name}\n{venue.address}")
    else:
        location = _one_line(event.external_location or event.online_url)
    geo = None
    if venue is not None and venue.latitude is not None and venue.longitude is not None:
        geo = (float(venue.latitude), float(venue.longitude))
    host = urlsplit(base_url).hostname or "localhost"
    return EventFacts(
        uid=event_uid(event),
        summary=_text(event.title),
        description=f"{text}\n\n{url}" if text else url,
        location=location,
        url=url,
        starts_at=event.starts_at.astimezone(UTC),
        ends_at=event.ends_at.astimezone(UTC),
        timezone=event.timezone,
        status="CANCELLED" if event.status is EventStatus.CANCELLED else (status or "CONFIRMED"),
        sequence=event.revision or 0,
        stamp=event.updated_at.astimezone(UTC).replace(microsecond=0),
        created=event.created_at.astimezone(UTC).replace(microsecond=0)
        if event.created_at
        else None,
        geo=geo,
        categories=tuple(_one_line(tag.name) for tag in event.tags),
        organizer_name=_parameter(event.community.name),
        organizer_address=f"mailto:noreply@{host}",
    )


def programme_of(event: Event) -> Sequence[ProgrammeItem]:
    """The event's programme: as loaded with it (feeds load it for all their events at
    once), else read through the event's session (one event: a download, a mail)."""
    if "programme" not in inspect(event).unloaded:
        return event.programme
    session = object_session(event)
    if session is None or event.id is None:
        return ()
    return session.scalars(
        select(ProgrammeItem)
        .where(ProgrammeItem.event_id == event.id)
        .order_by(ProgrammeItem.position, ProgrammeItem.starts_at)
    ).all()


def _programme_text(event: Event) -> str:
    """The programme as the DESCRIPTION lists it: one line per session, by time, in the
    event's zone ("19:30-20:15 · Lab · Title (speakers)"). "Programme" reads the same in
    English and French: feeds are not translated."""
    zone = ZoneInfo(event.timezone)
    items = sorted(
        programme_of(event),
        key=lambda item: (item.starts_at is None, item.starts_at or event.starts_at, item.position),
    )
    lines = []
    for item in items:
        when = ""
        if item.starts_at is not None:
            when = item.starts_at.astimezone(zone).strftime("%H:%M")
            if item.ends_at is not None:
                when += "-" + item.ends_at.astimezone(zone).strftime("%H:%M")
        title = _one_line(item.title) + (f" ({_one_line(item.speakers)})" if item.speakers else "")
        lines.append(" · ".join(part for part in (when, _one_line(item.room), title) if part))
    return "Programme:\n" + "\n".join(lines) if lines else ""


def _vevent(facts: EventFacts) -> VEvent:
    zone = ZoneInfo(facts.timezone)
    component = VEvent()
    component.add("UID", facts.uid)
    component.add("DTSTAMP", facts.stamp)
    component.add("DTSTART", facts.starts_at.astimezone(zone))
    component.add("DTEND", facts.ends_at.astimezone(zone))
    component.add("SUMMARY", Text(facts.summary))
    component.add("DESCRIPTION", Text(facts.description))
    if facts.location:
        component.add("LOCATION", Text(facts.location))
    if facts.geo is not None:
        component.add("GEO", facts.geo)
    component.add("URL", facts.url)
    component.add("STATUS", facts.status)
    component.add("SEQUENCE", facts.sequence)
    if facts.created is not None:
        component.add("CREATED", facts.created)
    component.add("LAST-MODIFIED", facts.stamp)
    if facts.categories:
        component.add("CATEGORIES", Categories(facts.categories))
    organizer = vCalAddress(facts.organizer_address)
    if facts.organizer_name:
        organizer.params["CN"] = facts.organizer_name
    component.add("ORGANIZER", organizer)
    return component


def vevent_for(event: Event, base_url: str, status: str | None = None) -> VEvent:
    """The event as an icalendar VEVENT (UID stable, times with TZID, no clock reads)."""
    return _vevent(block_key(event, base_url, status))


@lru_cache(maxsize=BLOCK_CACHE_SIZE)
def _block(facts: EventFacts) -> bytes:
    return bytes(_vevent(facts).to_ical())


def vevent_block(event: Event, base_url: str, status: str | None = None) -> bytes:
    """The event's serialised VEVENT (CRLF, folded), from the in-process cache."""
    return _block(block_key(event, base_url, status))


def _calendar(name: str, description: str, url: str) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("NAME", Text(_text(name)))
    # NAME and X- properties would default to an unescaped type: they are TEXT.
    calendar.add("X-WR-CALNAME", Text(_text(name)))
    if description:
        calendar.add("DESCRIPTION", Text(_text(description)))
        calendar.add("X-WR-CALDESC", Text(_text(description)))
    calendar.add("REFRESH-INTERVAL", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", PUBLISHED_TTL)
    if url:
        calendar.add("URL", url)
    return calendar


@lru_cache(maxsize=1024)
def _header(name: str, description: str, url: str) -> bytes:
    serialised = bytes(_calendar(name, description, url).to_ical())
    assert serialised.endswith(_END)
    return serialised[: -len(_END)]


@lru_cache(maxsize=256)
def _vtimezone_block(zone: str, first_year: int, last_year: int) -> bytes:
    # vtimezone() depends only on the years of its bounds (see events.ical_timezones).
    return bytes(vtimezone(zone, date(first_year, 1, 1), date(last_year, 12, 31)).to_ical())


def _ordered(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.starts_at, str(event.id)))


def _date_range(events: Sequence[Event]) -> tuple[date, date]:
    """First local start date and last local end date (what the VTIMEZONEs must cover)."""
    starts = [e.starts_at.astimezone(ZoneInfo(e.timezone)).date() for e in events]
    ends = [e.ends_at.astimezone(ZoneInfo(e.timezone)).date() for e in events]
    return min(starts), max(ends)


def calendar_feed(
    events: Iterable[Event],
    *,
    name: str,
    description: str,
    base_url: str,
    url: str,
    statuses: Mapping[UUID, str] | None = None,
) -> bytes:
    """The VCALENDAR of ``events`` (sorted by start), assembled from cached blocks.

    ``statuses`` overrides the STATUS of some events (by id), for personal feeds.
    Byte for byte what :func:`full_build` returns for the same arguments.
    """
    statuses = statuses or {}
    ordered = _ordered(events)
    parts = [_header(name, description, url)]
    if ordered:
        first, last = _date_range(ordered)
        for zone in sorted({event.timezone for event in ordered}):
            parts.append(_vtimezone_block(zone, first.year, last.year))
        parts.extend(vevent_block(event, base_url, statuses.get(event.id)) for event in ordered)
    parts.append(_END)
    return b"".join(parts)


def full_build(
    events: Iterable[Event],
    *,
    name: str,
    description: str,
    base_url: str,
    url: str,
    statuses: Mapping[UUID, str] | None = None,
) -> bytes:
    """The same calendar as :func:`calendar_feed`, built with icalendar objects only."""
    statuses = statuses or {}
    ordered = _ordered(events)
    calendar = _calendar(name, description, url)
    for event in ordered:
        calendar.add_component(vevent_for(event, base_url, statuses.get(event.id)))
    if ordered:
        first, last = _date_range(ordered)
        add_timezones(calendar, {event.timezone for event in ordered}, first, last)
    return bytes(calendar.to_ical())


@dataclass(frozen=True)
class ShiftEntry:
    """One volunteer shift in a volunteer's calendar."""

    #: The sign-up's id: its UID is ``shift-<id>@rencontres`` for as long as it lives.
    signup_id: UUID
    #: "Door — Flat-share meetup", in the volunteer's language.
    summary: str
    event: Event
    starts_at: datetime
    ends_at: datetime
    #: When the shift last changed (DTSTAMP, LAST-MODIFIED).
    stamp: datetime


def shifts_calendar(entries: Sequence[ShiftEntry], *, name: str, base_url: str, url: str) -> bytes:
    """A volunteer's shifts as a VCALENDAR: each shift a VEVENT at the shift's times, with
    its event's place and page (the event's own facts, see :func:`block_key`)."""
    calendar = _calendar(name, "", url)
    ordered = sorted(entries, key=lambda entry: (entry.starts_at, str(entry.signup_id)))
    for entry in ordered:
        facts = replace(
            block_key(entry.event, base_url),
            uid=f"shift-{entry.signup_id}@{UID_DOMAIN}",
            summary=_text(entry.summary),
            starts_at=entry.starts_at.astimezone(UTC),
            ends_at=entry.ends_at.astimezone(UTC),
            sequence=0,
            stamp=entry.stamp.astimezone(UTC).replace(microsecond=0),
            categories=(),
        )
        calendar.add_component(_vevent(facts))
    if ordered:
        zones = {entry.event.timezone for entry in ordered}
        first = min(entry.starts_at for entry in ordered).date() - timedelta(days=1)
        last = max(entry.ends_at for entry in ordered).date() + timedelta(days=1)
        add_timezones(calendar, zones, first, last)
    return bytes(calendar.to_ical())


# -- which events a feed holds -------------------------------------------------------------


@dataclass(frozen=True)
class FeedScope:
    """A feed's selection: every public event, or a community's, a tag's or a venue's."""

    community_id: UUID | None = None
    tag_id: UUID | None = None
    venue_id: UUID | None = None


@dataclass(frozen=True)
class FeedState:
    """A cheap summary of a feed's inputs, from narrow queries (no ORM objects).

    ``fingerprint`` changes whenever the feed's content can change: an event enters or
    leaves the selection, or it, its venue, its community or one of its tags is updated.
    """

    fingerprint: str
    last_modified: datetime | None
    count: int


def _in_feed(statement: _AnySelect, scope: FeedScope, now: datetime) -> _AnySelect:
    """Public events that end after the retention cutoff; cancelled ones only while their
    cancellation is recent, so subscribers learn about it and then stop seeing it."""
    cutoff = now - RETENTION
    statement = statement.where(
        Event.status != EventStatus.DRAFT,
        Event.ends_at >= cutoff,
        or_(
            Event.status != EventStatus.CANCELLED,
            Event.cancelled_at.is_(None),
            Event.cancelled_at >= cutoff,
        ),
    )
    if scope.community_id is not None:
        statement = statement.where(Event.community_id == scope.community_id)
    if scope.venue_id is not None:
        statement = statement.where(Event.venue_id == scope.venue_id)
    if scope.tag_id is not None:
        statement = statement.where(
            Event.id.in_(select(event_tag.c.event_id).where(event_tag.c.tag_id == scope.tag_id))
        )
    return statement


def feed_events(session: Session, scope: FeedScope, *, now: datetime) -> list[Event]:
    """The events of a feed, ordered by start."""
    statement = (
        _in_feed(select(Event), scope, now)
        .options(
            defaultload(Event.venue).lazyload(Venue.community),  # the event's is enough
            selectinload(Event.programme),  # listed in each DESCRIPTION: one query for all
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(session.scalars(statement))


def recently_updated(
    session: Session, scope: FeedScope, *, now: datetime, limit: int
) -> list[Event]:
    """The feed's events changed most recently first (for Atom), at most ``limit``."""
    statement = (
        _in_feed(select(Event), scope, now)
        .order_by(Event.updated_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def _raw(column: ColumnElement[Any] | InstrumentedAttribute[Any], label: str) -> ColumnElement[Any]:
    """The column as the driver returns it: skipping UUID/UTC conversion makes the
    fingerprint query several times faster, and only equality of values matters here."""
    return type_coerce(column, String()).label(label)


def feed_state(session: Session, scope: FeedScope, *, now: datetime) -> FeedState:
    """The feed's :class:`FeedState`, from ids and ``updated_at`` columns only."""
    rows = session.execute(
        _in_feed(
            select(
                _raw(Event.id, "event"),
                _raw(Event.updated_at, "event_updated"),
                _raw(Venue.updated_at, "venue_updated"),
                _raw(Community.updated_at, "community_updated"),
            )
            .join(Community, Community.id == Event.community_id)
            .outerjoin(Venue, Venue.id == Event.venue_id),
            scope,
            now,
        ).order_by(Event.id)
    ).all()
    # Tag links are not columns of the event: changing them does not touch its updated_at.
    tag_rows = session.execute(
        _in_feed(
            select(
                _raw(event_tag.c.event_id, "event"),
                _raw(Tag.id, "tag"),
                _raw(Tag.updated_at, "tag_updated"),
            )
            .join(Event, Event.id == event_tag.c.event_id)
            .join(Tag, Tag.id == event_tag.c.tag_id),
            scope,
            now,
        ).order_by(event_tag.c.event_id, Tag.id)
    ).all()
    latest = session.execute(
        _in_feed(
            select(
                func.max(Event.updated_at),
                func.max(Venue.updated_at),
                func.max(Community.updated_at),
            )
            .join(Community, Community.id == Event.community_id)
            .outerjoin(Venue, Venue.id == Event.venue_id),
            scope,
            now,
        )
    ).one()
    values = repr(([tuple(row) for row in rows], [tuple(row) for row in tag_rows]))
    fingerprint = hashlib.sha256(values.encode()).hexdigest()
    stamps = [stamp for stamp in latest if stamp is not None]
    return FeedState(
        fingerprint=fingerprint,
        last_modified=max(stamps) if stamps else None,
        count=len(rows),
    )
