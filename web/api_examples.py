"""Example values of the API's answers and bodies, shown in the OpenAPI document (every
operation carries one): built from the same structures the API sends, so they stay true."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example

from web.api_views import (
    BoardOut,
    BoardRoomOut,
    BoardSlotOut,
    BoardTopicOut,
    CallOut,
    ChangedOut,
    CheckInLogOut,
    CheckInOut,
    CommunityOut,
    EventDetailOut,
    EventListOut,
    EventOut,
    LicenceOut,
    ManagedEventListOut,
    ManagedEventOut,
    OccurrenceOut,
    PlacesOut,
    Problem,
    ProgrammeItemOut,
    ProposalListOut,
    ProposalOut,
    RegisteredOut,
    RegistrationListOut,
    RegistrationOut,
    RegistrationSettingsOut,
    ScanOut,
    SeriesOut,
    StatisticsMonthOut,
    StatisticsOut,
    TagOut,
    VenueOut,
)

SITE = "https://meetups.example.org"
PARIS = ZoneInfo("Europe/Paris")
_EVENT_ID = UUID("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")
_REGISTRATION_ID = UUID("0193a1b2-8d4e-7f50-9bac-1d2e3f4a5b6c")
_CHECK_IN_ID = UUID("0193a1b2-9e5f-7061-8cbd-2e3f4a5b6c7d")
_STARTS = datetime(2026, 3, 5, 19, 0, tzinfo=PARIS)
_ENDS = datetime(2026, 3, 5, 22, 0, tzinfo=PARIS)
_UPDATED = datetime(2026, 2, 20, 9, 30, tzinfo=UTC)

COMMUNITY = CommunityOut(
    slug="rust-paris",
    name="Rust Paris",
    description="Monthly talks and hack evenings.",
    timezone="Europe/Paris",
    url=f"{SITE}/g/rust-paris",
)
VENUE = VenueOut(
    slug="la-cantine",
    name="La Cantine",
    address="12 rue de la Paix, 75002 Paris",
    access_notes="Step-free entrance on the courtyard.",
    capacity=80,
    latitude=48.8686,
    longitude=2.3318,
    community="rust-paris",
    url=f"{SITE}/venues/la-cantine",
)
_PLACES = PlacesOut(
    capacity=60, taken=42, places_left=18, waitlist_enabled=True, registration_open=True
)
_EVENT_FIELDS: dict[str, Any] = {
    "id": _EVENT_ID,
    "slug": "rust-meetup-2026-03-05",
    "url": f"{SITE}/e/rust-meetup-2026-03-05",
    "title": "Rust meetup",
    "description": "Two talks, then **pizza**.",
    "description_text": "Two talks, then pizza.",
    "status": "published",
    "cancel_reason": "",
    "starts_at": _STARTS,
    "ends_at": _ENDS,
    "timezone": "Europe/Paris",
    "community": "rust-paris",
    "venue": VENUE,
    "online_url": "",
    "tags": [TagOut(slug="rust", name="Rust")],
    "series": "rust-meetup",
    "external_url": None,
    "places": _PLACES,
    "revision": 2,
    "updated_at": _UPDATED,
}
EVENT = EventOut(**_EVENT_FIELDS)
EVENT_DETAIL = EventDetailOut(
    **_EVENT_FIELDS,
    programme=[
        ProgrammeItemOut(
            title="Async without tears",
            speakers="Ada L.",
            room="Main room",
            starts_at=datetime(2026, 3, 5, 19, 15, tzinfo=PARIS),
            ends_at=datetime(2026, 3, 5, 19, 45, tzinfo=PARIS),
            description="",
            tag="talk",
        )
    ],
)
EVENT_LIST = EventListOut(
    data=[EVENT],
    next_cursor="MjAyNi0wMy0wNVQxODowMDowMCswMDowMHwwMTkzYTFiMi03YzNk",
    next=f"{SITE}/api/v1/events?cursor=MjAyNi0wMy0wNVQxODowMDowMCswMDowMHwwMTkzYTFiMi03YzNk",
)
SERIES = SeriesOut(
    slug="rust-meetup",
    title="Rust meetup",
    description="Every first Thursday.",
    community="rust-paris",
    rhythm_en="Every month on the first Thursday",
    rhythm_fr="Chaque mois le premier jeudi",
    rrule="FREQ=MONTHLY;BYDAY=1TH",
    timezone="Europe/Paris",
    start_time="19:00",
    duration_minutes=180,
    starts_on=date(2026, 1, 8),
    ended_on=None,
    venue="la-cantine",
    next_occurrences=[
        OccurrenceOut(
            slug="rust-meetup-2026-03-05",
            url=f"{SITE}/e/rust-meetup-2026-03-05",
            status="published",
            starts_at=_STARTS,
            ends_at=_ENDS,
        )
    ],
)
CALL = CallOut(
    slug="que-faire-aux-prochains-jeudis",
    url=f"{SITE}/g/rust-paris/proposals/que-faire-aux-prochains-jeudis",
    title="What should the next Thursdays be about?",
    description="Propose a talk, a workshop or a topic for the open tables.",
    community="rust-paris",
    kinds=["talk", "workshop", "topic"],
    opens_at=datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
    closes_at=datetime(2026, 2, 28, 22, 59, tzinfo=UTC),
    supports_open_at=datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
    supports_close_at=datetime(2026, 2, 28, 22, 59, tzinfo=UTC),
    threshold=10,
    public_counts=True,
    proposing_open=True,
    supporting_open=True,
)
PROPOSAL_LIST = ProposalListOut(
    call=CALL,
    data=[
        ProposalOut(
            number=3,
            url=f"{CALL.url}/3",
            title="Async Rust without tears",
            kind="talk",
            status="under_discussion",
            supports=12,
            excerpt="Twenty minutes on what the borrow checker says about futures.",
            published_at=datetime(2026, 1, 12, 18, 4, tzinfo=UTC),
            updated_at=_UPDATED,
        )
    ],
)
_ROOM = UUID("0193a1b2-af60-7172-9dce-3f4a5b6c7d8e")
_SLOT = UUID("0193a1b2-b071-7283-aedf-4a5b6c7d8e9f")
BOARD = BoardOut(
    event="rust-meetup-2026-03-05",
    timezone="Europe/Paris",
    version=42,
    rooms=[BoardRoomOut(id=_ROOM, name="Canteen", capacity=30)],
    slots=[
        BoardSlotOut(
            id=_SLOT,
            starts_at=datetime(2026, 3, 5, 19, 30, tzinfo=PARIS),
            ends_at=datetime(2026, 3, 5, 20, 15, tzinfo=PARIS),
            common_label="",
        )
    ],
    topics=[
        BoardTopicOut(
            id=UUID("0193a1b2-c182-7394-bfe0-5b6c7d8e9fa0"),
            title="Embedded Rust on a 2 € board",
            summary="Bring a board if you have one.",
            kind="discussion",
            host="Ana",
            cohost="",
            interested=7,
            room_id=_ROOM,
            slot_id=_SLOT,
            posted_at=datetime(2026, 3, 5, 18, 52, tzinfo=UTC),
        )
    ],
)
STATISTICS = StatisticsOut(
    community="Rust Paris",
    url=f"{SITE}/g/rust-paris/stats",
    licence=LicenceOut(name="ODbL-1.0", url="https://opendatacommons.org/licenses/odbl/1-0/"),
    generated_at="2026-03-06T09:00:00+00:00",
    small_numbers="people counts below 5 are shown as '<5'; 'suppressed' cells are hidden "
    "so that such a count cannot be worked out",
    months=[
        StatisticsMonthOut(
            month="2026-02",
            events=1,
            registered=64,
            came=51,
            no_shows=13,
            new=18,
            returning=46,
            promotions="<5",
            proposals=7,
            matches="<5",
            no_show_rate_percent=20,
        )
    ],
)
MANAGED_EVENT = ManagedEventOut(
    **_EVENT_FIELDS,
    registration=RegistrationSettingsOut(
        waitlist_enabled=True, requires_approval=False, guest_allowance=1, confirm_email_first=False
    ),
)
MANAGED_EVENT_LIST = ManagedEventListOut(data=[MANAGED_EVENT], next_cursor=None, next=None)
REGISTRATION = RegistrationOut(
    id=_REGISTRATION_ID,
    event="rust-meetup-2026-03-05",
    name="Grace Hopper",
    email="grace@example.org",
    guests=1,
    status="confirmed",
    waitlist_position=None,
    walk_in=False,
    arrived=0,
    locale="en",
    opt_in=False,
    answers={"q1": "vegetarian"},
    created_at=_UPDATED,
    confirmed_at=_UPDATED,
    cancelled_at=None,
)
REGISTRATION_LIST = RegistrationListOut(data=[REGISTRATION], total=1, next_offset=None)
REGISTERED = RegisteredOut(outcome="confirmed", registration=REGISTRATION, waitlist_rank=None)
CHANGED = ChangedOut(registration=REGISTRATION, promoted=[])
SCAN = ScanOut(
    verdict="admitted",
    registration_id=_REGISTRATION_ID,
    name="Grace Hopper",
    party=2,
    arrived=2,
    admitted_now=2,
    first_checked_in_at=datetime(2026, 3, 5, 18, 58, tzinfo=UTC),
    first_device="door-1",
    check_in_id=_CHECK_IN_ID,
    conflict=False,
    replayed=False,
)
CHECK_IN_LOG = CheckInLogOut(
    data=[
        CheckInOut(
            id=_CHECK_IN_ID,
            recorded_at=datetime(2026, 3, 5, 18, 58, tzinfo=UTC),
            scanned_at=datetime(2026, 3, 5, 18, 58, tzinfo=UTC),
            action="scan",
            verdict="admitted",
            people=2,
            device="door-1",
            offline=False,
            conflict=False,
            undone=False,
            registration_id=_REGISTRATION_ID,
            name="Grace Hopper",
        )
    ]
)
NOT_FOUND = Problem(
    type="about:blank",
    title="Page not found",
    status=404,
    detail="There is nothing at this address. It may have moved or been deleted.",
    code="not_found",
)
INVALID = Problem(
    type="about:blank",
    title="Bad request",
    status=400,
    detail="The request could not be understood. Please check what you sent.",
    code="invalid",
    fields={"title": "required"},
    errors={"title": "This field is required."},
)
UNAUTHENTICATED = Problem(
    type="about:blank",
    title="Please log in",
    status=401,
    detail="This API token is not valid.",
    code="token_invalid",
)
FORBIDDEN = Problem(
    type="about:blank",
    title="Not allowed",
    status=403,
    detail="This API token does not have the scope this needs.",
    code="insufficient_scope",
)
CONFLICT = Problem(
    type="about:blank",
    title="Conflict",
    status=409,
    detail="This event is full.",
    code="event_full",
)


def example(value: Any, summary: str = "example") -> list[Example]:
    return [Example(summary=summary, value=msgspec.to_builtins(value))]


def ok(value: Any, description: str = "OK") -> ResponseSpec:
    return ResponseSpec(
        data_container=type(value),
        description=description,
        generate_examples=False,
        examples=example(value),
    )


def problem(value: Problem, description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
        examples=example(value),
    )


def listed(value: Any, description: str = "OK") -> ResponseSpec:
    """A JSON array of ``value``'s type."""
    return ResponseSpec(
        data_container=list[type(value)],  # type: ignore[misc,arg-type]
        description=description,
        generate_examples=False,
        examples=example([value]),
    )


#: The answers every public read may give besides its 200.
PUBLIC_ERRORS = {
    304: ResponseSpec(data_container=None, description="Not modified (ETag matched)"),
    400: problem(INVALID, "A query parameter is not valid"),
}
PUBLIC_ONE_ERRORS = {**PUBLIC_ERRORS, 404: problem(NOT_FOUND, "No such public object")}
#: The answers every organiser API call may give besides its success.
TOKEN_ERRORS = {
    400: problem(INVALID, "The request is not valid (fields name their error codes)"),
    401: problem(UNAUTHENTICATED, "No token, or an unknown, revoked or expired one"),
    403: problem(FORBIDDEN, "The token lacks the scope this operation needs"),
    404: problem(NOT_FOUND, "Not found, or another community's token"),
}
TOKEN_WRITE_ERRORS = {**TOKEN_ERRORS, 409: problem(CONFLICT, "A rule refused the change")}
