"""What the JSON API sends: msgspec structures (they are also the OpenAPI schema) and the
functions that fill them from the domain's objects. Shared by the public and the organiser
API controllers, so an event reads the same from both.

Times are RFC 3339 with the offset of the event's own zone (``2026-03-05T19:00:00+01:00``)
next to the IANA zone name (``Europe/Paris``); audit instants (``updated_at``) are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from events.lifecycle import registration_open
from events.models import (
    Community,
    Event,
    ProgrammeItem,
    ProposalCall,
    Registration,
    Series,
    Tag,
    Venue,
)
from events.proposal_lifecycle import proposing_open, supporting_open
from events.services.board_state import BoardState
from events.services.door import CheckInRow, ScanResult
from events.services.proposal_calls import call_path
from events.services.proposal_listing import ProposalCard


class CommunityOut(msgspec.Struct):
    slug: str
    name: str
    description: str
    timezone: str
    url: str


class VenueOut(msgspec.Struct):
    slug: str
    name: str
    address: str
    access_notes: str
    capacity: int | None
    latitude: float | None
    longitude: float | None
    community: str
    url: str


class TagOut(msgspec.Struct):
    slug: str
    name: str


class PlacesOut(msgspec.Struct):
    """Public capacity figures (people, guests included)."""

    capacity: int | None
    taken: int
    places_left: int | None
    waitlist_enabled: bool
    registration_open: bool


class ProgrammeItemOut(msgspec.Struct):
    title: str
    speakers: str
    room: str
    starts_at: datetime | None
    ends_at: datetime | None
    description: str
    tag: str


class EventOut(msgspec.Struct):
    id: UUID
    slug: str
    url: str
    title: str
    #: Markdown as written, and its plain text.
    description: str
    description_text: str
    #: ``published`` or ``cancelled`` (and ``draft`` in the organiser API).
    status: str
    cancel_reason: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    community: str
    venue: VenueOut | None
    online_url: str
    tags: list[TagOut]
    series: str | None
    #: Set for an event mirrored from another calendar: it is published there.
    external_url: str | None
    places: PlacesOut
    revision: int
    updated_at: datetime


class EventDetailOut(EventOut):
    programme: list[ProgrammeItemOut] = msgspec.field(default_factory=list)


class EventListOut(msgspec.Struct):
    data: list[EventOut]
    #: Pass as ``cursor`` for the next page; null on the last page.
    next_cursor: str | None
    #: The next page's full address, or null.
    next: str | None


class OccurrenceOut(msgspec.Struct):
    slug: str
    url: str
    status: str
    starts_at: datetime
    ends_at: datetime


class SeriesOut(msgspec.Struct):
    slug: str
    title: str
    description: str
    community: str
    #: The rhythm in words, in English and French.
    rhythm_en: str
    rhythm_fr: str
    #: The RFC 5545 recurrence rule.
    rrule: str
    timezone: str
    start_time: str
    duration_minutes: int
    starts_on: date
    ended_on: date | None
    venue: str | None
    next_occurrences: list[OccurrenceOut]


class CallOut(msgspec.Struct):
    """A call for proposals: its windows (UTC) and rules."""

    slug: str
    url: str
    title: str
    description: str
    community: str
    #: The kinds of proposal it takes (talk, workshop, topic...).
    kinds: list[str]
    opens_at: datetime
    closes_at: datetime
    supports_open_at: datetime
    supports_close_at: datetime
    #: Supports needed for the organisers to look at a proposal (null: none).
    threshold: int | None
    #: Whether support counts are public (else ``supports`` is null on its proposals).
    public_counts: bool
    proposing_open: bool
    supporting_open: bool


class ProposalOut(msgspec.Struct):
    """A visible proposal (public status, not hidden by moderation); no proposer names."""

    number: int
    url: str
    title: str
    kind: str
    status: str
    #: Null when the call keeps its counts private.
    supports: int | None
    excerpt: str
    published_at: datetime | None
    updated_at: datetime


class ProposalListOut(msgspec.Struct):
    call: CallOut
    #: By number: the API ranks nothing (the call's page has its own order).
    data: list[ProposalOut]


class BoardRoomOut(msgspec.Struct):
    id: UUID
    name: str
    capacity: int


class BoardSlotOut(msgspec.Struct):
    id: UUID
    starts_at: datetime
    ends_at: datetime
    #: A slot everyone shares (a plenary, a break): its label, else "".
    common_label: str


class BoardTopicOut(msgspec.Struct):
    """A visible topic; hosts by first name only, and only if they chose to show it."""

    id: UUID
    title: str
    summary: str
    kind: str
    host: str
    cohost: str
    interested: int
    room_id: UUID | None
    slot_id: UUID | None
    posted_at: datetime


class BoardOut(msgspec.Struct):
    event: str
    timezone: str
    #: Grows with every change of the board.
    version: int
    rooms: list[BoardRoomOut]
    slots: list[BoardSlotOut]
    topics: list[BoardTopicOut]


class LicenceOut(msgspec.Struct):
    name: str
    url: str


class StatisticsMonthOut(msgspec.Struct):
    """One month; a people count below the small-number threshold is ``"<5"``, a count
    hidden so that it cannot be worked out is ``"suppressed"``."""

    month: str
    events: int
    registered: int | str
    came: int | str
    no_shows: int | str
    new: int | str
    returning: int | str
    promotions: int | str
    proposals: int | str
    matches: int | str
    no_show_rate_percent: int | None


class StatisticsOut(msgspec.Struct):
    """The community's public statistics (the same table as ``/g/{group}/stats.json``)."""

    community: str
    url: str
    licence: LicenceOut
    generated_at: str
    small_numbers: str
    months: list[StatisticsMonthOut]


# -- the organiser API ----------------------------------------------------------------------


class RegistrationSettingsOut(msgspec.Struct):
    waitlist_enabled: bool
    requires_approval: bool
    guest_allowance: int
    confirm_email_first: bool


class ManagedEventOut(EventOut):
    registration: RegistrationSettingsOut | None = None


class ManagedEventListOut(msgspec.Struct):
    data: list[ManagedEventOut]
    next_cursor: str | None
    next: str | None


class RegistrationOut(msgspec.Struct):
    id: UUID
    event: str
    name: str
    email: str
    guests: int
    #: pending_email, pending_approval, confirmed, waitlisted, cancelled, declined
    status: str
    waitlist_position: int | None
    walk_in: bool
    arrived: int
    locale: str
    opt_in: bool
    #: Answers to the event's questions, by question id.
    answers: dict[str, Any]
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None


class RegistrationListOut(msgspec.Struct):
    data: list[RegistrationOut]
    total: int
    next_offset: int | None


class RegisteredOut(msgspec.Struct):
    #: confirmed, waitlisted, pending_approval, pending_email, duplicate_resent, replayed
    outcome: str
    registration: RegistrationOut
    waitlist_rank: int | None


class ChangedOut(msgspec.Struct):
    registration: RegistrationOut
    #: Registrations promoted from the waitlist by this change.
    promoted: list[UUID]


class ScanOut(msgspec.Struct):
    """The door's verdict (events/services/door.py ``Verdict``)."""

    verdict: str
    registration_id: UUID | None
    name: str | None
    party: int
    arrived: int
    admitted_now: int
    first_checked_in_at: datetime | None
    first_device: str | None
    check_in_id: UUID | None
    conflict: bool
    replayed: bool


class CheckInOut(msgspec.Struct):
    id: UUID
    recorded_at: datetime
    scanned_at: datetime
    action: str
    verdict: str
    people: int
    device: str
    offline: bool
    conflict: bool
    undone: bool
    registration_id: UUID | None
    name: str | None


class CheckInLogOut(msgspec.Struct):
    data: list[CheckInOut]


class Problem(msgspec.Struct):
    """RFC 9457 problem details. ``code`` is the machine-readable reason (the same codes
    the pages translate); ``fields`` maps each invalid field to its code."""

    type: str
    title: str
    status: int
    detail: str
    code: str | None = None
    fields: dict[str, str] | None = None
    errors: dict[str, str] | None = None


# -- filling them ---------------------------------------------------------------------------


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def community_out(community: Community, base_url: str) -> CommunityOut:
    return CommunityOut(
        slug=community.slug,
        name=community.name,
        description=community.description,
        timezone=community.timezone,
        url=f"{base_url}/g/{community.slug}",
    )


def venue_out(venue: Venue, base_url: str) -> VenueOut:
    return VenueOut(
        slug=venue.slug,
        name=venue.name,
        address=venue.address,
        access_notes=venue.access_notes,
        capacity=venue.capacity,
        latitude=venue.latitude,
        longitude=venue.longitude,
        community=venue.community.slug,
        url=f"{base_url}/venues/{venue.slug}",
    )


def _tag_out(tag: Tag) -> TagOut:
    return TagOut(slug=tag.slug, name=tag.name)


def _places(event: Event, now: datetime) -> PlacesOut:
    return PlacesOut(
        capacity=event.capacity,
        taken=event.taken,
        places_left=event.places_left,
        waitlist_enabled=event.waitlist_enabled,
        registration_open=registration_open(event, now),
    )


def _event_fields(event: Event, base_url: str, now: datetime) -> dict[str, Any]:
    zone = event.timezone
    return {
        "id": event.id,
        "slug": event.slug,
        "url": f"{base_url}/e/{event.slug}",
        "title": event.title,
        "description": event.description,
        "description_text": event.description_text,
        "status": event.status.value,
        "cancel_reason": event.cancel_reason,
        "starts_at": _local(event.starts_at, zone),
        "ends_at": _local(event.ends_at, zone),
        "timezone": zone,
        "community": event.community.slug,
        "venue": venue_out(event.venue, base_url) if event.venue is not None else None,
        "online_url": event.online_url,
        "tags": [_tag_out(tag) for tag in event.tags],
        "series": event.series.slug if event.series is not None else None,
        "external_url": event.external_url,
        "places": _places(event, now),
        "revision": event.revision,
        "updated_at": event.updated_at,
    }


def event_out(event: Event, base_url: str, now: datetime) -> EventOut:
    return EventOut(**_event_fields(event, base_url, now))


def event_detail_out(event: Event, base_url: str, now: datetime) -> EventDetailOut:
    zone = event.timezone
    return EventDetailOut(
        **_event_fields(event, base_url, now),
        programme=[_item_out(item, zone) for item in event.programme],
    )


def managed_event_out(event: Event, base_url: str, now: datetime) -> ManagedEventOut:
    return ManagedEventOut(
        **_event_fields(event, base_url, now),
        registration=RegistrationSettingsOut(
            waitlist_enabled=event.waitlist_enabled,
            requires_approval=event.requires_approval,
            guest_allowance=event.guest_allowance,
            confirm_email_first=event.confirm_email_first,
        ),
    )


def _item_out(item: ProgrammeItem, zone: str) -> ProgrammeItemOut:
    return ProgrammeItemOut(
        title=item.title,
        speakers=item.speakers,
        room=item.room,
        starts_at=_local(item.starts_at, zone) if item.starts_at else None,
        ends_at=_local(item.ends_at, zone) if item.ends_at else None,
        description=item.description,
        tag=item.tag,
    )


def series_out(series: Series, upcoming: list[Event], base_url: str) -> SeriesOut:
    zone = series.timezone
    return SeriesOut(
        slug=series.slug,
        title=series.title,
        description=series.description,
        community=series.community.slug,
        rhythm_en=series.rhythm_en,
        rhythm_fr=series.rhythm_fr,
        rrule=series.rrule,
        timezone=zone,
        start_time=series.start_time.strftime("%H:%M"),
        duration_minutes=series.duration_minutes,
        starts_on=series.starts_on,
        ended_on=series.ended_on,
        venue=series.venue.slug if series.venue is not None else None,
        next_occurrences=[
            OccurrenceOut(
                slug=event.slug,
                url=f"{base_url}/e/{event.slug}",
                status=event.status.value,
                starts_at=_local(event.starts_at, zone),
                ends_at=_local(event.ends_at, zone),
            )
            for event in upcoming
        ],
    )


def registration_out(registration: Registration, event_slug: str) -> RegistrationOut:
    return RegistrationOut(
        id=registration.id,
        event=event_slug,
        name=registration.name,
        email=registration.email,
        guests=registration.guests,
        status=registration.status.value,
        waitlist_position=registration.waitlist_position,
        walk_in=registration.walk_in,
        arrived=registration.arrived,
        locale=registration.locale,
        opt_in=registration.opt_in,
        answers=dict(registration.answers or {}),
        created_at=registration.created_at,
        confirmed_at=registration.confirmed_at,
        cancelled_at=registration.cancelled_at,
    )


def scan_out(result: ScanResult) -> ScanOut:
    return ScanOut(
        verdict=result.verdict.value,
        registration_id=result.registration_id,
        name=result.name,
        party=result.party,
        arrived=result.arrived,
        admitted_now=result.admitted_now,
        first_checked_in_at=result.first_checked_in_at,
        first_device=result.first_device,
        check_in_id=result.check_in_id,
        conflict=result.conflict,
        replayed=result.replayed,
    )


def check_in_out(row: CheckInRow) -> CheckInOut:
    return CheckInOut(
        id=row.id,
        recorded_at=row.recorded_at,
        scanned_at=row.scanned_at,
        action=str(getattr(row.action, "value", row.action)),
        verdict=str(row.verdict),
        people=row.people,
        device=row.device,
        offline=row.offline,
        conflict=row.conflict,
        undone=row.undone,
        registration_id=row.registration_id,
        name=row.name,
    )


def call_out(call: ProposalCall, base_url: str, now: datetime) -> CallOut:
    return CallOut(
        slug=call.slug,
        url=f"{base_url}{call_path(call)}",
        title=call.title,
        description=call.description,
        community=call.community.slug,
        kinds=list(call.kinds),
        opens_at=call.opens_at,
        closes_at=call.closes_at,
        supports_open_at=call.supports_open_at,
        supports_close_at=call.supports_close_at,
        threshold=call.threshold,
        public_counts=call.public_counts,
        proposing_open=proposing_open(call, now),
        supporting_open=supporting_open(call, now),
    )


def proposal_out(card: ProposalCard, call: CallOut) -> ProposalOut:
    return ProposalOut(
        number=card.number,
        url=f"{call.url}/{card.number}",
        title=card.title,
        kind=card.kind,
        status=card.status,
        supports=card.supports if call.public_counts else None,
        excerpt=card.excerpt,
        published_at=card.published_at,
        updated_at=card.updated_at,
    )


def board_out(state: BoardState, event: Event) -> BoardOut:
    """The public board: what ``/e/{event}/board`` shows (no notes, no reports, no marks
    of anyone in particular)."""
    zone = event.timezone
    return BoardOut(
        event=event.slug,
        timezone=zone,
        version=state.version,
        rooms=[BoardRoomOut(id=r.id, name=r.name, capacity=r.capacity) for r in state.rooms],
        slots=[
            BoardSlotOut(
                id=s.id,
                starts_at=_local(s.starts_at, zone),
                ends_at=_local(s.ends_at, zone),
                common_label=s.common_label,
            )
            for s in state.slots
        ],
        topics=[
            BoardTopicOut(
                id=t.id,
                title=t.title,
                summary=t.summary,
                kind=t.kind,
                host=t.host,
                cohost=t.cohost,
                interested=t.interested,
                room_id=t.room_id,
                slot_id=t.slot_id,
                posted_at=t.posted_at,
            )
            for t in state.topics
            if not t.hidden
        ],
    )


def statistics_out(document: dict[str, Any]) -> StatisticsOut:
    """The open-data document (events/services/statistics.py ``open_data``) as typed."""
    return msgspec.convert(document, StatisticsOut)
