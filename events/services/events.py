"""Events: create, edit, publish, cancel, duplicate; the revision counter that calendar
feeds publish as SEQUENCE; Markdown rendered once per change, never per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.utils.text import slugify
from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.lifecycle import is_upcoming_clause, require_unpublishable, unpublish_refused_reason
from events.mail.notify import place_of, queue_event_cancelled, queue_event_changed
from events.models import Community, Event, EventStatus, ProgrammeItem, Registration, Tag, Venue
from events.recurrence import localise
from events.services.event_addresses import (
    current_slug,
    follow_the_date,
    local_day,
    new_event_slug,
)
from events.services.questions import form_questions
from events.services.registrations import RegistrationService
from events.text import markdown_to_text, render_markdown
from events.validation import (
    FieldErrors,
    clean_color,
    clean_tag_names,
    clean_text,
    clean_timezone,
    clean_url,
    parse_int,
    parse_local_datetime,
)
from events.webhook_queue import queue_webhook

MAX_DURATION = timedelta(days=14)
#: Loader options for :meth:`EventService.by_slug`: the event with its community, venue and
#: source, without the two extra queries for its tags and cover image.
WITHOUT_COLLECTIONS: tuple[ORMOption, ...] = (
    lazyload(Event.tags),
    lazyload(Event.cover),
)
MAX_GUEST_ALLOWANCE = 20
#: Local times as organisers enter them (``<input type=datetime-local>``).
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
_TRUE_FLAGS = frozenset({"on", "true", "1", "yes"})
_FALSE_FLAGS = frozenset({"", "off", "false", "0", "no"})
#: Fields whose change matters to attendees and bumps the revision (feeds' SEQUENCE).
SIGNIFICANT_FIELDS = ("title", "starts_at", "ends_at", "venue_id", "online_url", "status")
#: How people register; copied by ``duplicate``. Capacity is apart: it has its own rules.
REGISTRATION_SETTINGS = (
    "waitlist_enabled",
    "requires_approval",
    "guest_allowance",
    "confirm_email_first",
)


@dataclass
class EventInput:
    """What an organiser submits (strings, as forms and the API send them)."""

    title: str = ""
    description: str = ""
    starts_local: str = ""
    ends_local: str = ""
    timezone: str = "Europe/Paris"
    venue_id: str = ""
    online_url: str = ""
    capacity: str = ""
    tags: str = ""
    cover_color: str = ""
    # Registration settings (a checkbox sends "on"). None leaves the event's value as it is
    # (the model's default on create), so callers that do not offer a setting never change it.
    waitlist_enabled: str | bool | None = None
    requires_approval: str | bool | None = None
    #: Guests one registrant may bring, 0..MAX_GUEST_ALLOWANCE ("" = none).
    guest_allowance: str | int | None = None
    confirm_email_first: str | bool | None = None


@dataclass(frozen=True)
class CleanEvent:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    time_adjusted: str | None
    venue_id: UUID | None
    online_url: str
    capacity: int | None
    tag_names: list[str]
    cover_color: str
    waitlist_enabled: bool | None = None
    requires_approval: bool | None = None
    guest_allowance: int | None = None
    confirm_email_first: bool | None = None


def input_of(event: Event) -> EventInput:
    """The event as an organiser would submit it unchanged (local times in its zone)."""
    zone = ZoneInfo(event.timezone)
    return EventInput(
        title=event.title,
        description=event.description,
        starts_local=event.starts_at.astimezone(zone).strftime(LOCAL_INPUT),
        ends_local=event.ends_at.astimezone(zone).strftime(LOCAL_INPUT),
        timezone=event.timezone,
        venue_id=str(event.venue_id) if event.venue_id else "",
        online_url=event.online_url,
        capacity="" if event.capacity is None else str(event.capacity),
        tags=", ".join(tag.name for tag in event.tags),
        cover_color=event.cover_color,
        waitlist_enabled=event.waitlist_enabled,
        requires_approval=event.requires_approval,
        guest_allowance=event.guest_allowance,
        confirm_email_first=event.confirm_email_first,
    )


def parse_flag(field: str, value: str | bool | None) -> bool | None:
    """A checkbox: "on" (or true/1/yes) is True, absent or "" is False, None is unset."""
    if value is None or isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in _TRUE_FLAGS:
        return True
    if text in _FALSE_FLAGS:
        return False
    raise ValidationFailed({field: "invalid_choice"})


def parse_guest_allowance(field: str, value: str | int | None) -> int | None:
    if value is None:
        return None
    number = parse_int(field, value, minimum=0, maximum=MAX_GUEST_ALLOWANCE)
    return number or 0


def find_or_create_tags(session: Session, names: list[str]) -> list[Tag]:
    tags: list[Tag] = []
    for name in names:
        slug = slugify(name)[:60] or "tag"
        tag = session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(slug=slug, name=name)
            session.add(tag)
            session.flush()
        if tag not in tags:
            tags.append(tag)
    return tags


#: What makes an event "moved" for its registrants (and which fields say so).
_MOVES = {
    "time": ("starts_at", "ends_at", "timezone"),
    "place": ("venue_id", "venue_name", "venue_address", "online_url"),
}


def time_and_place(session: Session, event: Event) -> dict[str, str]:
    """The event's time and place as strings, to compare before and after an edit."""
    return {
        "starts_at": event.starts_at.astimezone(UTC).isoformat(),
        "ends_at": event.ends_at.astimezone(UTC).isoformat(),
        "timezone": event.timezone,
        "venue_id": str(event.venue_id or ""),
        **place_of(session, event),
    }


def apply_description(event: Event, description: str) -> None:
    """Store the Markdown with its sanitised HTML and plain text (rendered here, once)."""
    event.description = description
    event.description_html = render_markdown(description)
    event.description_text = markdown_to_text(description)


class EventService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- validation ------------------------------------------------------------------
    def clean(self, community: Community, data: EventInput) -> CleanEvent:
        """Validate every field (all errors at once) without touching the database rows."""
        errors = FieldErrors()
        title = errors.check(clean_text, "title", data.title, max_length=200)
        description = errors.check(
            clean_text,
            "description",
            data.description,
            max_length=20_000,
            required=False,
            multiline=True,
        )
        zone = errors.check(clean_timezone, "timezone", data.timezone)
        starts_local = errors.check(parse_local_datetime, "starts_local", data.starts_local)
        ends_local = errors.check(parse_local_datetime, "ends_local", data.ends_local)
        online_url = errors.check(clean_url, "online_url", data.online_url)
        capacity = errors.check(parse_int, "capacity", data.capacity, minimum=0, maximum=100_000)
        tag_names = errors.check(clean_tag_names, "tags", data.tags)
        cover_color = errors.check(clean_color, "cover_color", data.cover_color)
        waitlist_enabled = errors.check(parse_flag, "waitlist_enabled", data.waitlist_enabled)
        requires_approval = errors.check(parse_flag, "requires_approval", data.requires_approval)
        guest_allowance = errors.check(
            parse_guest_allowance, "guest_allowance", data.guest_allowance
        )
        confirm_email_first = errors.check(
            parse_flag, "confirm_email_first", data.confirm_email_first
        )
        venue_id: UUID | None = None
        if data.venue_id:
            try:
                venue = self.session.get(Venue, UUID(data.venue_id))
            except ValueError:
                venue = None
            if venue is None or venue.community_id != community.id:
                errors.add("venue_id", "invalid_choice")
            else:
                venue_id = venue.id
        starts_at = ends_at = None
        adjusted = None
        if zone and starts_local and ends_local:
            starts_at, adjusted = localise(starts_local, zone)
            ends_at, _ = localise(ends_local, zone)
            if ends_at <= starts_at:
                errors.add("ends_local", "ends_before_start")
            elif ends_at - starts_at > MAX_DURATION:
                errors.add("ends_local", "too_long_event")
        errors.raise_if_any()
        assert starts_at is not None and ends_at is not None
        return CleanEvent(
            title=title,
            description=description or "",
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=zone,
            time_adjusted=adjusted,
            venue_id=venue_id,
            online_url=online_url,
            capacity=capacity,
            tag_names=tag_names,
            cover_color=cover_color,
            waitlist_enabled=waitlist_enabled,
            requires_approval=requires_approval,
            guest_allowance=guest_allowance,
            confirm_email_first=confirm_email_first,
        )

    # -- reading ---------------------------------------------------------------------
    def by_slug(
        self, slug: str, *, public: bool = True, options: Sequence[ORMOption] = ()
    ) -> Event:
        """``options``: loader options, e.g. :data:`WITHOUT_COLLECTIONS` for a caller that
        needs the event itself, not its tags and cover (the door's scans)."""
        event = self.session.scalar(select(Event).where(Event.slug == slug).options(*options))
        if event is None or (public and event.status is EventStatus.DRAFT):
            raise NotFound()
        return event

    def moved_to(self, old_slug: str) -> str | None:
        """The current address of an event that left ``old_slug`` for another day."""
        return current_slug(self.session, old_slug)

    def in_community(self, community: Community, slug: str) -> Event:
        event = self.by_slug(slug, public=False)
        if event.community_id != community.id:
            raise NotFound()
        return event

    def with_programme(self, slug: str, *, public: bool = True) -> Event:
        event = self.session.scalar(
            select(Event).where(Event.slug == slug).options(selectinload(Event.programme))
        )
        if event is None or (public and event.status is EventStatus.DRAFT):
            raise NotFound()
        return event

    def upcoming_in(self, community: Community, *, limit: int = 100) -> list[Event]:
        return list(
            self.session.scalars(
                select(Event)
                .where(Event.community_id == community.id, is_upcoming_clause(utcnow()))
                .order_by(Event.starts_at)
                .limit(limit)
            )
        )

    # -- writing ---------------------------------------------------------------------
    def _slug_for(self, title: str, starts_at: datetime, zone: str) -> str:
        from zoneinfo import ZoneInfo

        local_day = starts_at.astimezone(ZoneInfo(zone)).date().isoformat()
        return new_event_slug(
            self.session, f"{slugify(title)[:60].strip('-') or 'event'}-{local_day}"
        )

    def _assign(self, event: Event, clean: CleanEvent) -> bool:
        """Copy validated values onto ``event``; True when an attendee-visible field changed."""
        before = {name: getattr(event, name, None) for name in SIGNIFICANT_FIELDS}
        event.title = clean.title
        apply_description(event, clean.description)
        event.starts_at, event.ends_at = clean.starts_at, clean.ends_at
        event.timezone, event.time_adjusted = clean.timezone, clean.time_adjusted
        event.venue_id, event.online_url = clean.venue_id, clean.online_url
        event.capacity, event.cover_color = clean.capacity, clean.cover_color
        event.tags = find_or_create_tags(self.session, clean.tag_names)
        for name in REGISTRATION_SETTINGS:
            value = getattr(clean, name)
            if value is not None:
                setattr(event, name, value)
        return any(getattr(event, name) != before[name] for name in SIGNIFICANT_FIELDS)

    def create(self, community: Community, data: EventInput) -> Event:
        clean = self.clean(community, data)
        event = Event(community_id=community.id, status=EventStatus.DRAFT, revision=0)
        self._assign(event, clean)
        event.slug = self._slug_for(clean.title, clean.starts_at, clean.timezone)
        self.session.add(event)
        self.session.flush()
        return event

    def update(self, event: Event, data: EventInput) -> Event:
        clean = self.clean(event.community, data)
        # Capacity goes through the registration rules: never below the confirmed people,
        # and a raise promotes from the waitlist.
        RegistrationService(self.session).set_capacity(event, clean.capacity)
        before = time_and_place(self.session, event)
        previous_day = local_day(event)
        if self._assign(event, clean):
            event.revision += 1
            if event.status is EventStatus.PUBLISHED:
                self._webhook(event, "event.changed")
        # Moved to another day: the address follows (the old one redirects).
        follow_the_date(self.session, event, previous_day)
        self.mail_if_moved(event, before)
        if event.series_id is not None:
            event.detached = True  # edited on its own: series edits leave it alone now
        self.session.flush()
        return event

    def amend(self, event: Event, changes: Mapping[str, object]) -> Event:
        """``update`` with only the fields in ``changes`` (names of ``EventInput``); the
        others keep their values. Every rule of ``update`` applies."""
        known = {item.name for item in fields(EventInput)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValidationFailed({name: "unknown_field" for name in unknown})
        return self.update(event, replace(input_of(event), **changes))  # type: ignore[arg-type]

    def publish(self, event: Event) -> Event:
        if event.status is EventStatus.CANCELLED:
            raise Conflict("event_cancelled")
        if event.status is EventStatus.DRAFT:
            event.status = EventStatus.PUBLISHED
            event.revision += 1
            self.session.flush()
            self._webhook(event, "event.published")
        return event

    def registration_count(self, event: Event) -> int:
        """Registrations of ``event`` in any status (walk-ins included)."""
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.event_id == event.id)
            )
            or 0
        )

    def can_unpublish(self, event: Event) -> bool:
        return unpublish_refused_reason(event, self.registration_count(event)) is None

    def unpublish(self, event: Event) -> Event:
        """Back to draft: the event leaves the public pages and the feeds. Only while
        nobody has registered (``Conflict("event_has_registrations")``; cancel instead)
        and only for a published event (``Conflict("event_not_published")``)."""
        require_unpublishable(event, self.registration_count(event))
        event.status = EventStatus.DRAFT
        event.revision += 1  # calendars that saw it learn that it is gone
        self.session.flush()
        return event

    def cancel(self, event: Event, reason: str | None) -> Event:
        reason = clean_text(
            "cancel_reason", reason, max_length=2000, required=False, multiline=True
        )
        if event.status is EventStatus.CANCELLED:
            return event  # idempotent: a double submit cancels once
        if event.status is EventStatus.DRAFT:
            # A draft was never public: nobody needs to learn it is cancelled.
            self.session.delete(event)
            self.session.flush()
            return event
        event.status = EventStatus.CANCELLED
        event.cancel_reason = reason
        event.cancelled_at = utcnow()
        event.revision += 1
        self.session.flush()
        queue_event_cancelled(self.session, event)  # everyone concerned hears of it
        self._webhook(event, "event.cancelled")
        return event

    def _webhook(self, event: Event, event_type: str) -> None:
        """Tell the community's webhook endpoints (events/webhook_queue.py)."""
        queue_webhook(
            self.session,
            event_type,
            {"event_id": event.id, "slug": event.slug, "revision": event.revision},
            community_id=event.community_id,
        )

    def duplicate(self, event: Event, *, days_later: int = 7) -> Event:
        """A draft copy, a week later by default, with its programme."""
        shift = timedelta(days=days_later)
        copy = Event(
            community_id=event.community_id,
            status=EventStatus.DRAFT,
            revision=0,
            title=event.title,
            starts_at=event.starts_at + shift,
            ends_at=event.ends_at + shift,
            timezone=event.timezone,
            venue_id=event.venue_id,
            online_url=event.online_url,
            capacity=event.capacity,
            cover_color=event.cover_color,
            tags=list(event.tags),
            # The questions still asked; removed ones only stay for their answers.
            questions=[question.to_json() for question in form_questions(event)],
            **{name: getattr(event, name) for name in REGISTRATION_SETTINGS},
        )
        apply_description(copy, event.description)
        copy.slug = self._slug_for(event.title, copy.starts_at, event.timezone)
        self.session.add(copy)
        self.session.flush()
        items = self.session.scalars(
            select(ProgrammeItem).where(ProgrammeItem.event_id == event.id)
        )
        for item in items:
            self.session.add(
                ProgrammeItem(
                    event_id=copy.id,
                    position=item.position,
                    title=item.title,
                    speakers=item.speakers,
                    room=item.room,
                    description=item.description,
                    tag=item.tag,
                    starts_at=item.starts_at + shift if item.starts_at else None,
                    ends_at=item.ends_at + shift if item.ends_at else None,
                )
            )
        self.session.flush()
        return copy

    def mail_if_moved(self, event: Event, before: dict[str, str]) -> None:
        """A published event whose time or place changed: mail everyone concerned."""
        if event.status is not EventStatus.PUBLISHED:
            return
        self.session.flush()
        after = time_and_place(self.session, event)
        changes = tuple(
            change
            for change, fields in _MOVES.items()
            if any(before[name] != after[name] for name in fields)
        )
        if changes:
            queue_event_changed(self.session, event, changes=changes, previous=before)

    def count_in(self, community: Community) -> int:
        return (
            self.session.scalar(
                select(func.count()).select_from(Event).where(Event.community_id == community.id)
            )
            or 0
        )
