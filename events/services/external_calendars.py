"""External calendars: a community subscribes to iCalendar URLs (a partner venue's
calendar) or uploads an ``.ics`` file once, and their events are mirrored as "external"
events: public, linking out, without registration.

The mirror. Each imported event is an ``Event`` row with ``external_source_id`` and
``external_uid`` (the feed's UID, plus the RECURRENCE-ID for an occurrence of a recurring
event). A sync upserts by that UID, bumps ``revision`` (the SEQUENCE our own feeds
publish) when the title, time, place or status changed, and deletes the events that are
no longer in the feed. Events that started before the import window are history: a feed
that stops listing them does not delete them.

Importing is heavy and the write lock is precious: a calendar is read and made ready to
write (:func:`read_calendar_file`: parse, then render every description) with no
transaction open, and only then written, in one short transaction (:func:`sync_source`:
a handful of statements whatever the number of events). A refused feed (unreachable,
too large, not iCalendar...) changes no event: only the status the organisers see.
Subscriptions are fetched in the background (events/services/calendar_refresh.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.utils.text import slugify
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, lazyload, noload

from events.content_version import mark_content_changed
from events.errors import ValidationFailed
from events.fetch import FetchResult
from events.imports import MAX_BYTES, ImportedEvent, ImportRefused, ParsedCalendar, parse_calendar
from events.models import Community, Event, EventStatus, ExternalCalendar
from events.models.base import new_id
from events.services.slugs import available_slugs
from events.text import markdown_to_text, render_markdown
from events.validation import FieldErrors, clean_text

__all__ = [
    "FETCHING",
    "PENDING",
    "QUEUED",
    "ExternalCalendarService",
    "PreparedCalendar",
    "PreparedEvent",
    "SubscriptionInput",
    "SyncReport",
    "clean_calendar_url",
    "prepare_calendar",
    "read_calendar_file",
    "sync_source",
]

#: A fetch is wanted (subscribed, "Refresh now", due): it starts when a slot is free.
QUEUED = "queued"
#: A process is fetching it (since ``last_fetched_at``).
FETCHING = "fetching"
PENDING = (QUEUED, FETCHING)
MAX_URL = 2000
#: What makes an imported event "changed" for calendars that subscribe to ours.
SIGNIFICANT_FIELDS = ("title", "starts_at", "ends_at", "online_url", "status", "external_location")


@dataclass
class SubscriptionInput:
    name: str = ""
    url: str = ""


@dataclass(frozen=True)
class SyncReport:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def clean_calendar_url(field_name: str, value: str | None) -> str:
    """An http(s) address (``webcal://`` is the same thing, served over https)."""
    url = clean_text(field_name, value, max_length=MAX_URL)
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as error:
        raise ValidationFailed({field_name: "invalid_url"}) from error
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or " " in url:
        raise ValidationFailed({field_name: "invalid_url"})
    return url


class ExternalCalendarService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading ---------------------------------------------------------------------
    def of_community(self, community: Community) -> list[ExternalCalendar]:
        return list(
            self.session.scalars(
                select(ExternalCalendar)
                .where(ExternalCalendar.community_id == community.id)
                .order_by(func.lower(ExternalCalendar.name), ExternalCalendar.created_at)
            )
        )

    def in_community(self, community: Community, source_id: UUID) -> ExternalCalendar | None:
        """The community's subscription or upload ``source_id``; None if it has no such."""
        source = self.session.get(ExternalCalendar, source_id)
        if source is None or source.community_id != community.id:
            return None
        return source

    # -- writing ---------------------------------------------------------------------
    def subscribe(self, community: Community, data: SubscriptionInput) -> ExternalCalendar:
        """A new subscription, queued for its first fetch (in the background:
        events/services/calendar_refresh.py)."""
        errors = FieldErrors()
        name = errors.check(clean_text, "name", data.name, max_length=120, required=False)
        url = errors.check(clean_calendar_url, "url", data.url)
        if url and self.session.scalar(
            select(ExternalCalendar.id).where(
                ExternalCalendar.community_id == community.id, ExternalCalendar.url == url
            )
        ):
            errors.add("url", "already_subscribed")
        errors.raise_if_any()
        source = ExternalCalendar(
            community_id=community.id,
            name=name or (urlsplit(url).hostname or url)[:120],
            url=url,
            last_notes=[],
            last_status=QUEUED,
        )
        self.session.add(source)
        self.session.flush()
        return source

    def request_fetch(self, source: ExternalCalendar) -> bool:
        """Queue a fetch of the subscription ("Refresh now"); False for an uploaded file,
        nothing to do when one is queued or under way already."""
        if source.url is None:
            return False
        if source.last_status not in PENDING:
            source.last_status = QUEUED
            self.session.flush()
        return True

    def remove(self, source: ExternalCalendar) -> int:
        """Delete the subscription and every event it mirrored; how many events went."""
        events = list(
            self.session.scalars(select(Event).where(Event.external_source_id == source.id))
        )
        for event in events:  # one by one, so the public pages' caches hear of it
            self.session.delete(event)
        self.session.delete(source)
        self.session.flush()
        return len(events)

    def import_upload(
        self, community: Community, prepared: PreparedCalendar, *, filename: str, now: datetime
    ) -> tuple[ExternalCalendar, SyncReport]:
        """Mirror an uploaded file's events (read beforehand: :func:`read_calendar_file`).
        Uploading a file of the same name again updates the events of the first upload
        (by UID) instead of duplicating them."""
        parsed = prepared.parsed
        name = clean_text("file", filename, max_length=120, required=False) or parsed.name
        name = name or "calendar.ics"
        # Two uploads of one file name at once (PostgreSQL runs writers side by side)
        # must not both find "no such upload yet": lock the community, then look.
        self.session.execute(
            select(Community.id).where(Community.id == community.id).with_for_update()
        )
        source = self.session.scalar(
            select(ExternalCalendar).where(
                ExternalCalendar.community_id == community.id,
                ExternalCalendar.url.is_(None),
                ExternalCalendar.name == name,
            )
        )
        if source is None:
            source = ExternalCalendar(community_id=community.id, name=name, url=None)
            self.session.add(source)
            self.session.flush()
        report = sync_source(self.session, source, prepared, now=now)
        _record_success(source, parsed, now)
        source.last_status = "ok"
        self.session.flush()
        return source, report

    def record(
        self,
        source: ExternalCalendar,
        result: FetchResult,
        prepared: PreparedCalendar | ImportRefused | None,
        *,
        now: datetime,
    ) -> SyncReport:
        """Store a fetch's outcome: the events if it brought a readable calendar, the
        status and error whatever happened."""
        source.last_fetched_at = now
        report = SyncReport()
        if result.status == "not_modified":
            # last_success_at stays: it dates the last full import (see FULL_REFRESH_EVERY).
            source.last_status, source.last_error = "not_modified", ""
        elif not result.ok:
            source.last_status, source.last_error = result.status, result.error
        elif isinstance(prepared, ImportRefused):
            # The validators stay those of the events we have (the last good import).
            source.last_status, source.last_error = prepared.code, prepared.detail
        elif prepared is not None:
            report = sync_source(self.session, source, prepared, now=now)
            _record_success(source, prepared.parsed, now)
            source.last_status = "ok"
            source.etag, source.last_modified = result.etag, result.last_modified
        self.session.flush()
        return report

    def record_failure(
        self, source: ExternalCalendar, status: str, error: str, now: datetime
    ) -> None:
        source.last_fetched_at = now
        source.last_status, source.last_error = status, error[:2000]
        self.session.flush()


def _record_success(source: ExternalCalendar, parsed: ParsedCalendar, now: datetime) -> None:
    source.last_fetched_at = source.last_success_at = now
    source.last_error = ""
    source.last_notes = [note.as_json() for note in parsed.notes]


# -- the mirror ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedEvent:
    """One feed event with every column value worked out (descriptions rendered)."""

    item: ImportedEvent
    values: dict[str, Any]
    #: What its slug is made of: the title and the local day (made unique at the write).
    slug_wanted: str


@dataclass(frozen=True)
class PreparedCalendar:
    """A parsed calendar made ready to write: what takes time is done, no database used."""

    parsed: ParsedCalendar
    events: list[PreparedEvent]


def prepare_calendar(parsed: ParsedCalendar) -> PreparedCalendar:
    """Render what the write would otherwise render row by row (Markdown to HTML and text:
    half of a 2,000-event import's time), before any transaction begins. Occurrences of a
    recurring event share their description: each text is rendered once."""
    rendered: dict[str, tuple[str, str]] = {}
    events: list[PreparedEvent] = []
    for item in parsed.events:
        if item.description not in rendered:
            rendered[item.description] = (
                render_markdown(item.description),
                markdown_to_text(item.description),
            )
        html, text = rendered[item.description]
        status = EventStatus.CANCELLED if item.cancelled else EventStatus.PUBLISHED
        values: dict[str, Any] = {
            "title": item.title,
            "starts_at": item.starts_at,
            "ends_at": item.ends_at,
            "timezone": item.timezone,
            "online_url": item.online_url,
            "external_url": item.url or None,
            "external_location": item.location or None,
            "status": status,
            "description": item.description,
            "description_html": html,
            "description_text": text,
        }
        local_day = item.starts_at.astimezone(ZoneInfo(item.timezone)).date().isoformat()
        slug_wanted = f"{slugify(item.title)[:60].strip('-') or 'event'}-{local_day}"
        events.append(PreparedEvent(item=item, values=values, slug_wanted=slug_wanted))
    return PreparedCalendar(parsed=parsed, events=events)


def read_calendar_file(
    data: bytes,
    *,
    now: datetime,
    default_timezone: str,
    max_bytes: int = MAX_BYTES,
    time_limit: float | None = None,
) -> PreparedCalendar:
    """Parse and prepare ``data`` (an upload, a fetched feed): the heavy part of an import,
    to run with no transaction open and in a CPU slot (events/work_limits.py).
    Raises :class:`ImportRefused` when the file is refused whole (``time_limit``: see
    :func:`events.imports.parse_calendar`)."""
    parsed = parse_calendar(
        data,
        now=now,
        default_timezone=default_timezone,
        max_bytes=max_bytes,
        time_limit=time_limit,
    )
    return prepare_calendar(parsed)


def sync_source(
    session: Session, source: ExternalCalendar, prepared: PreparedCalendar, *, now: datetime
) -> SyncReport:
    """Make the source's events match ``prepared``: upsert by UID, delete what went away.

    The write of an import, kept short (it runs under the write lock): the existing
    events are loaded in one query without their relationships, new slugs are found in a
    few queries for all the new events at once, and everything is flushed once.
    """
    existing = {
        event.external_uid: event
        for event in session.scalars(
            select(Event)
            .where(Event.external_source_id == source.id)
            .options(
                lazyload(Event.community),
                lazyload(Event.venue),
                lazyload(Event.external_source),
                noload(Event.tags),
            )
        )
    }
    updated = unchanged = removed = 0
    seen: set[str] = set()
    new: list[PreparedEvent] = []
    for prepared_event in prepared.events:
        uid = prepared_event.item.uid
        seen.add(uid)
        event = existing.get(uid)
        if event is None:
            new.append(prepared_event)
        elif _assign(event, prepared_event.values, now):
            event.revision += 1
            updated += 1
        else:
            unchanged += 1
    slugs = available_slugs(
        session, Event.slug, [p.slug_wanted for p in new], fallback="event", max_length=80
    )
    if new:
        # One multi-row INSERT, without building an ORM object per event (which the
        # rows do not need: nothing else refers to them in this transaction).
        session.execute(
            insert(Event),
            [
                _new_row(source, prepared_event, slug, now)
                for prepared_event, slug in zip(new, slugs, strict=True)
            ],
        )
        mark_content_changed(session)
    for known_uid, event in existing.items():
        if known_uid not in seen and event.starts_at >= prepared.parsed.window_start:
            session.delete(event)
            removed += 1
    session.flush()
    source.event_count = (
        session.scalar(
            select(func.count()).select_from(Event).where(Event.external_source_id == source.id)
        )
        or 0
    )
    return SyncReport(created=len(new), updated=updated, removed=removed, unchanged=unchanged)


def _new_row(
    source: ExternalCalendar, prepared: PreparedEvent, slug: str, now: datetime
) -> dict[str, Any]:
    return {
        **prepared.values,
        "id": new_id(),
        "community_id": source.community_id,
        "external_source_id": source.id,
        "external_uid": prepared.item.uid,
        "slug": slug,
        "revision": 0,
        "capacity": None,
        "waitlist_enabled": False,
        "cancelled_at": now if prepared.item.cancelled else None,
    }


def _assign(event: Event, values: dict[str, Any], now: datetime) -> bool:
    """Copy the feed's values onto ``event``, touching only what differs (an unchanged
    event keeps its ``updated_at``, hence its DTSTAMP and our feeds' ETags); True when a
    field that matters to attendees changed."""
    changed = {name for name, value in values.items() if getattr(event, name, None) != value}
    for name in changed:
        setattr(event, name, values[name])
    if "status" in changed:
        event.cancelled_at = now if values["status"] is EventStatus.CANCELLED else None
        event.cancel_reason = ""
    return bool(changed & set(SIGNIFICANT_FIELDS))
