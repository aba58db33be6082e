"""External calendars: a community subscribes to iCalendar URLs (a partner venue's
calendar) or uploads an ``.ics`` file once, and their events are mirrored as "external"
events: public, linking out, without registration.

The mirror. Each imported event is an ``Event`` row with ``external_source_id`` and
``external_uid`` (the feed's UID, plus the RECURRENCE-ID for an occurrence of a recurring
event). A sync upserts by that UID, bumps ``revision`` (the SEQUENCE our own feeds
publish) when the title, time, place or status changed, and deletes the events that are
no longer in the feed. Events that started before the import window are history: a feed
that stops listing them does not delete them.

Fetching is slow and may fail; the database is not held meanwhile. :func:`refresh_source`
reads what it needs, fetches and parses with no transaction open, then writes everything
in one short transaction under the subscription's row lock. A refused feed (unreachable,
too large, not iCalendar...) changes no event: only the status the organisers see.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.utils.text import slugify
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import ValidationFailed
from events.fetch import FetchPolicy, FetchResult, fetch_calendar
from events.imports import ImportedEvent, ImportRefused, ParsedCalendar, parse_calendar
from events.models import Community, Event, EventStatus, ExternalCalendar
from events.services.events import apply_description
from events.services.slugs import available_slug
from events.validation import FieldErrors, clean_text

__all__ = [
    "REFRESH_EVERY",
    "ExternalCalendarService",
    "RefreshOutcome",
    "SubscriptionInput",
    "SyncReport",
    "clean_calendar_url",
    "describe",
    "due_sources",
    "refresh_due_sources",
    "refresh_source",
    "sync_source",
]

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(hours=1)
#: Past this, fetch without If-None-Match: the window moved, occurrences may have entered it.
FULL_REFRESH_EVERY = timedelta(days=1)
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


@dataclass(frozen=True)
class RefreshOutcome:
    source_id: UUID
    name: str
    status: str
    error: str = ""
    report: SyncReport = field(default_factory=SyncReport)


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
        """A new subscription (not fetched yet: see :func:`refresh_source`)."""
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
        )
        self.session.add(source)
        self.session.flush()
        return source

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
        self, community: Community, parsed: ParsedCalendar, *, filename: str, now: datetime
    ) -> tuple[ExternalCalendar, SyncReport]:
        """Mirror an uploaded file's events. Uploading a file of the same name again
        updates the events of the first upload (by UID) instead of duplicating them."""
        name = clean_text("file", filename, max_length=120, required=False) or parsed.name
        name = name or "calendar.ics"
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
        report = sync_source(self.session, source, parsed, now=now)
        _record_success(source, parsed, now)
        source.last_status = "ok"
        self.session.flush()
        return source, report

    def record(
        self,
        source: ExternalCalendar,
        result: FetchResult,
        parsed: ParsedCalendar | ImportRefused | None,
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
        elif isinstance(parsed, ImportRefused):
            # The validators stay those of the events we have (the last good import).
            source.last_status, source.last_error = parsed.code, parsed.detail
        elif parsed is not None:
            report = sync_source(self.session, source, parsed, now=now)
            _record_success(source, parsed, now)
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


def sync_source(
    session: Session, source: ExternalCalendar, parsed: ParsedCalendar, *, now: datetime
) -> SyncReport:
    """Make the source's events match ``parsed``: upsert by UID, delete what went away."""
    existing = {
        event.external_uid: event
        for event in session.scalars(select(Event).where(Event.external_source_id == source.id))
    }
    created = updated = unchanged = removed = 0
    seen: set[str] = set()
    for item in parsed.events:
        seen.add(item.uid)
        event = existing.get(item.uid)
        if event is None:
            _create(session, source, item, now)
            created += 1
        elif _assign(event, item, now):
            event.revision += 1
            updated += 1
        else:
            unchanged += 1
    for uid, event in existing.items():
        if uid not in seen and event.starts_at >= parsed.window_start:
            session.delete(event)
            removed += 1
    session.flush()
    source.event_count = (
        session.scalar(
            select(func.count()).select_from(Event).where(Event.external_source_id == source.id)
        )
        or 0
    )
    return SyncReport(created=created, updated=updated, removed=removed, unchanged=unchanged)


def _create(
    session: Session, source: ExternalCalendar, item: ImportedEvent, now: datetime
) -> Event:
    event = Event(
        community_id=source.community_id,
        external_source_id=source.id,
        external_uid=item.uid,
        revision=0,
        capacity=None,
        waitlist_enabled=False,
        tags=[],
    )
    _assign(event, item, now)
    local_day = item.starts_at.astimezone(ZoneInfo(item.timezone)).date().isoformat()
    base = f"{slugify(item.title)[:60].strip('-') or 'event'}-{local_day}"
    event.slug = available_slug(session, Event.slug, base, fallback="event", max_length=80)
    session.add(event)
    session.flush()  # the next slug lookup sees this one
    return event


def _assign(event: Event, item: ImportedEvent, now: datetime) -> bool:
    """Copy the feed's values onto ``event``, touching only what differs (an unchanged
    event keeps its ``updated_at``, hence its DTSTAMP and our feeds' ETags); True when a
    field that matters to attendees changed."""
    status = EventStatus.CANCELLED if item.cancelled else EventStatus.PUBLISHED
    values = {
        "title": item.title,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "timezone": item.timezone,
        "online_url": item.online_url,
        "external_url": item.url or None,
        "external_location": item.location or None,
        "status": status,
    }
    changed = {name for name, value in values.items() if getattr(event, name, None) != value}
    for name in changed:
        setattr(event, name, values[name])
    if "status" in changed:
        event.cancelled_at = now if item.cancelled else None
        event.cancel_reason = ""
    if event.description != item.description or event.description is None:
        apply_description(event, item.description)
    return bool(changed & set(SIGNIFICANT_FIELDS))


# -- fetching -----------------------------------------------------------------------------


def refresh_source(
    db: Database, source_id: UUID, *, policy: FetchPolicy, now: datetime | None = None
) -> RefreshOutcome | None:
    """Fetch one subscription and mirror it; None if it does not exist (or is an upload).

    Never raises for what a remote server does: the outcome, stored and returned, says.
    """
    now = now or utcnow()
    with db.session() as session:
        source = session.get(ExternalCalendar, source_id)
        if source is None or source.url is None:
            return None
        url, name = source.url, source.name
        zone = source.community.timezone
        fresh = (
            source.last_success_at is not None and now - source.last_success_at < FULL_REFRESH_EVERY
        )
        etag = source.etag if fresh else ""
        last_modified = source.last_modified if fresh else ""
    result = fetch_calendar(url, etag=etag, last_modified=last_modified, policy=policy)
    parsed: ParsedCalendar | ImportRefused | None = None
    if result.ok:
        try:
            parsed = parse_calendar(
                result.body, now=now, default_timezone=zone, max_bytes=policy.max_bytes
            )
        except ImportRefused as refused:
            parsed = refused
    with db.transaction() as session:
        locked = session.scalar(
            select(ExternalCalendar)
            .where(ExternalCalendar.id == source_id)
            .with_for_update(of=ExternalCalendar)
        )
        if locked is None or locked.url != url:
            return None  # deleted or changed while we were fetching
        report = ExternalCalendarService(session).record(locked, result, parsed, now=now)
        return RefreshOutcome(source_id, name, locked.last_status, locked.last_error, report)


def due_sources(session: Session, *, now: datetime, every: timedelta = REFRESH_EVERY) -> list[UUID]:
    """Enabled subscriptions not fetched for ``every``, the longest-waiting first."""
    return list(
        session.scalars(
            select(ExternalCalendar.id)
            .where(
                ExternalCalendar.enabled.is_(True),
                ExternalCalendar.url.is_not(None),
                or_(
                    ExternalCalendar.last_fetched_at.is_(None),
                    ExternalCalendar.last_fetched_at <= now - every,
                ),
            )
            .order_by(
                ExternalCalendar.last_fetched_at.is_not(None), ExternalCalendar.last_fetched_at
            )
        )
    )


def refresh_due_sources(
    db: Database,
    *,
    policy: FetchPolicy,
    now: datetime | None = None,
    every: timedelta = REFRESH_EVERY,
) -> list[RefreshOutcome]:
    """The background job: refresh every subscription that is due, one transaction each.

    A subscription that fails in an unexpected way is marked ``internal_error`` and the
    job goes on with the next one.
    """
    now = now or utcnow()
    with db.session() as session:
        ids = due_sources(session, now=now, every=every)
    outcomes: list[RefreshOutcome] = []
    for source_id in ids:
        try:
            outcome = refresh_source(db, source_id, policy=policy, now=now)
        except Exception as error:
            log.exception("refreshing external calendar %s failed", source_id)
            outcome = _mark_failed(db, source_id, error, now)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _mark_failed(
    db: Database, source_id: UUID, error: Exception, now: datetime
) -> RefreshOutcome | None:
    detail = f"{type(error).__name__}: {error}"[:300]
    with db.transaction() as session:
        source = session.get(ExternalCalendar, source_id)
        if source is None:
            return None
        ExternalCalendarService(session).record_failure(source, "internal_error", detail, now)
        return RefreshOutcome(source_id, source.name, "internal_error", detail)


def describe(outcomes: Iterable[RefreshOutcome]) -> list[str]:
    """One line per outcome, for the command line."""
    lines = []
    for outcome in outcomes:
        report = outcome.report
        counts = f"+{report.created} ~{report.updated} -{report.removed} ={report.unchanged}"
        detail = f" ({outcome.error})" if outcome.error else ""
        lines.append(f"{outcome.name}: {outcome.status}{detail} {counts}")
    return lines
