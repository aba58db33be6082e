"""Venues, tags, recurring series and events (one occurrence = one row = one page)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.folding import searchable_text
from events.models.accounts import Community
from events.models.base import Base
from events.models.external import ExternalCalendar


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


status_type = Enum(EventStatus, name="event_status", values_callable=lambda e: [m.value for m in e])


class Venue(Base):
    __tablename__ = "venue"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    access_notes: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    #: The organiser made the address, access notes and map position public before any
    #: event there is published (the rule: VenueService.address_is_public).
    address_public: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    community: Mapped[Community] = relationship(lazy="joined")


class Tag(Base):
    __tablename__ = "tag"

    slug: Mapped[str] = mapped_column(String(60), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(60))


event_tag = Table(
    "event_tag",
    Base.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class RegistrationSettings:
    """How people register: set on each event, and on a series for all its occurrences
    (copied to them; events.services.events.REGISTRATION_SETTINGS names them)."""

    #: When full, new registrations join a waitlist instead of being refused.
    waitlist_enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=expression.true()
    )
    #: Registrations wait for an organiser's decision before taking a place.
    requires_approval: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    #: How many guests one registrant may bring (0 = none).
    guest_allowance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Hold the place only once the registrant clicks the link mailed to them.
    confirm_email_first: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )


class Series(RegistrationSettings, Base):
    """A recurring meetup: its rhythm and the template its occurrences are made from."""

    __tablename__ = "series"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rrule: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    venue_id: Mapped[UUID | None] = mapped_column(ForeignKey("venue.id", ondelete="SET NULL"))
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    tag_names: Mapped[str] = mapped_column(Text, default="")  # comma-separated template
    publish_occurrences: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The registration questions every occurrence asks (events/services/questions.py).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # The rule in words, computed when the rule changes (never per request).
    rhythm_en: Mapped[str] = mapped_column(String(300), default="")
    rhythm_fr: Mapped[str] = mapped_column(String(300), default="")
    materialised_until: Mapped[date | None] = mapped_column(Date, default=None)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    community: Mapped[Community] = relationship(lazy="joined")
    venue: Mapped[Venue | None] = relationship(lazy="joined")


class SeriesException(Base):
    """A date skipped in a series (an EXDATE)."""

    __tablename__ = "series_exception"
    __table_args__ = (UniqueConstraint("series_id", "local_date"),)

    series_id: Mapped[UUID] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)


class Event(RegistrationSettings, Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_status_starts_at", "status", "starts_at"),
        UniqueConstraint("series_id", "series_date"),
        UniqueConstraint("external_source_id", "external_uid"),
    )

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    #: The occurrence's original local date in its series (the RECURRENCE-ID), kept when moved.
    series_date: Mapped[date | None] = mapped_column(Date, default=None)
    #: Edited on its own ("this one only"): later series edits leave it alone.
    detached: Mapped[bool] = mapped_column(Boolean, default=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised HTML and plain text of ``description``, rendered once per change.
    description_html: Mapped[str] = mapped_column(Text, default="")
    description_text: Mapped[str] = mapped_column(Text, default="")
    #: Title and plain-text description folded for search (events/folding.py), kept up to
    #: date by the listeners below and, for Core inserts (which skip them: a calendar
    #: import's multi-row INSERT), by the column default: whoever writes, search sees it.
    search_folded: Mapped[str] = mapped_column(
        Text, default=lambda context: _folded_row(context), server_default=""
    )
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64))
    time_adjusted: Mapped[str | None] = mapped_column(String(32), default=None)
    venue_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("venue.id", ondelete="SET NULL"), index=True
    )
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[EventStatus] = mapped_column(status_type, default=EventStatus.DRAFT)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    #: Bumped on every change that matters to attendees (time, place, status, title):
    #: calendar feeds publish it as SEQUENCE.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # -- registration (events.services.registrations) --------------------------------
    #: People holding a confirmed place, guests included; only ever changed under the
    #: event's row lock by a conditional UPDATE (never read-then-write), so it cannot drift.
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The door may register walk-ins beyond ``capacity`` (events.services.door).
    walk_ins_over_capacity: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    cover_color: Mapped[str] = mapped_column(String(7), default="")
    #: The organiser's own questions on the registration form (events/services/questions.py).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    #: The organisers' own questions on the feedback form (events/services/feedback.py).
    feedback_questions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # -- imported from an external calendar (events.services.external_calendars) ------
    #: The subscription or uploaded file this event mirrors; deleting it deletes them.
    external_source_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("external_calendar.id", ondelete="CASCADE"), default=None
    )
    #: The feed's UID (plus the RECURRENCE-ID of an expanded occurrence): set = imported.
    external_uid: Mapped[str | None] = mapped_column(String(255), default=None)
    #: Where the event is really published (the VEVENT's URL): its page links out there.
    external_url: Mapped[str | None] = mapped_column(String(500), default=None)
    #: The feed's LOCATION text (an imported event has no venue of ours).
    external_location: Mapped[str | None] = mapped_column(String(500), default=None)
    community: Mapped[Community] = relationship(lazy="joined")
    venue: Mapped[Venue | None] = relationship(lazy="joined")
    external_source: Mapped[ExternalCalendar | None] = relationship(lazy="joined")
    #: Loaded only when asked for (the API names an occurrence's series by its slug).
    series: Mapped[Series | None] = relationship(lazy="select", viewonly=True)
    tags: Mapped[list[Tag]] = relationship(secondary=event_tag, lazy="selectin", order_by=Tag.slug)
    programme: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="ProgrammeItem.position",
    )
    # The cover image (events/models/covers.py), loaded with the event (one extra query per
    # batch of events, bytes left out), so lists and pages show it without another lookup;
    # deleting the event or setting ``event.cover = None`` deletes the row. Named by string
    # (and typed loosely): the cover module imports this one, not the other way round.
    cover: Mapped[Any] = relationship(
        "EventCover",
        back_populates="event",
        uselist=False,
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    @property
    def is_external(self) -> bool:
        """Mirrored from another calendar: it links out, nobody registers here."""
        return self.external_uid is not None

    @property
    def places_left(self) -> int | None:
        """Places still free, or None when the event has no capacity limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.taken, 0)


def _folded_row(context: Any) -> str:
    row = context.get_current_parameters()
    return searchable_text(row.get("title"), row.get("description_text"))


def _fold_for_search(_mapper: Any, _connection: Any, event: Event) -> None:
    event.search_folded = searchable_text(event.title, event.description_text)


sa_event.listen(Event, "before_insert", _fold_for_search)
sa_event.listen(Event, "before_update", _fold_for_search)


class EventSlugRedirect(Base):
    """An address an event had before it moved to another day (events/services/
    event_addresses.py): ``/e/{old_slug}`` redirects permanently to the event's page."""

    __tablename__ = "event_slug_redirect"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    old_slug: Mapped[str] = mapped_column(String(120), unique=True)


class ProgrammeItem(Base):
    """One session of an evening's programme."""

    __tablename__ = "programme_item"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    speakers: Mapped[str] = mapped_column(String(300), default="")
    room: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    description: Mapped[str] = mapped_column(Text, default="")
    tag: Mapped[str] = mapped_column(String(60), default="")
    event: Mapped[Event] = relationship(back_populates="programme", lazy="raise")
