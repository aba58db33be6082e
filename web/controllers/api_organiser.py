"""The organiser API (``/api/v1/manage/{community}``), behind personal access tokens.

Every route declares the one scope it needs (web/auth.py ``api_access``); the guard checks
the token, its community and the scope (web/api_auth.py). Each handler parses the JSON
body, calls the same use case as the organiser's pages and the door (EventService,
RegistrationService, DoorService) with the token's owner as the actor, so every write is
recorded in the same logs as the pages, and presents the result (web/api_views.py).
Refusals are problem details carrying the domain's error codes (web/errors.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Event, Registration, RegistrationStatus, Scope
from events.services.api_tokens import Caller
from events.services.communities import CommunityService
from events.services.door import DoorService
from events.services.door_input import arrival_input, scan_input, undo_input
from events.services.event_listing import DEFAULT_LIMIT, MAX_LIMIT, EventQuery, list_events
from events.services.events import EventInput, EventService
from events.services.questions import FIELD_PREFIX
from events.services.registrations import RegistrationInput, RegistrationService
from web import api_examples as ex
from web.api_auth import provide_api_caller
from web.api_views import (
    ChangedOut,
    CheckInLogOut,
    ManagedEventListOut,
    ManagedEventOut,
    RegisteredOut,
    RegistrationListOut,
    RegistrationOut,
    ScanOut,
    check_in_out,
    managed_event_out,
    registration_out,
    scan_out,
)
from web.auth import api_access
from web.settings import Settings
from web.unsafe_switches import registrations_lock

MAX_REGISTRATIONS_PAGE = 500


# -- request bodies ---------------------------------------------------------------------------


class EventBody(msgspec.Struct, forbid_unknown_fields=True):
    """An event as the API sends it: local times in ``timezone`` (``2026-03-05T19:00``)."""

    title: str
    starts_local: str
    ends_local: str
    timezone: str
    description: str = ""
    venue_id: str = ""
    online_url: str = ""
    #: People, guests included; null: no limit.
    capacity: int | None = None
    #: Tag names, comma-separated.
    tags: str = ""
    cover_color: str = ""
    waitlist_enabled: bool | None = None
    requires_approval: bool | None = None
    guest_allowance: int | None = None
    confirm_email_first: bool | None = None


class EventChanges(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The fields to change; those left out keep their values."""

    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    starts_local: str | msgspec.UnsetType = msgspec.UNSET
    ends_local: str | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    venue_id: str | msgspec.UnsetType = msgspec.UNSET
    online_url: str | msgspec.UnsetType = msgspec.UNSET
    capacity: int | msgspec.UnsetType | None = msgspec.UNSET
    tags: str | msgspec.UnsetType = msgspec.UNSET
    cover_color: str | msgspec.UnsetType = msgspec.UNSET
    waitlist_enabled: bool | msgspec.UnsetType = msgspec.UNSET
    requires_approval: bool | msgspec.UnsetType = msgspec.UNSET
    guest_allowance: int | msgspec.UnsetType = msgspec.UNSET
    confirm_email_first: bool | msgspec.UnsetType = msgspec.UNSET


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class RegisterBody(msgspec.Struct, forbid_unknown_fields=True):
    """Register someone, with the same rules as the public form (capacity, waitlist,
    approval, questions). ``consent``: the person agreed to the privacy notice."""

    name: str
    email: str
    consent: bool
    guests: int = 0
    locale: str = "en"
    opt_in: bool = False
    #: Answers by question id (a string, or a list for multiple choice).
    answers: dict[str, Any] = msgspec.field(default_factory=dict)
    #: An idempotency key: the same key again answers the first result (``replayed``).
    request_key: str = ""


class GuestsBody(msgspec.Struct, forbid_unknown_fields=True):
    guests: int


class CheckInBody(msgspec.Struct, forbid_unknown_fields=True):
    """Give ``ticket`` (the QR code's text or the code) or ``registration_id``."""

    #: The idempotency key of this scan (8–64 letters, digits, ``-``, ``_``): a retry with
    #: the same nonce answers the first verdict and changes nothing.
    nonce: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    ticket: str = ""
    registration_id: UUID | None = None
    device: str = "api"
    #: How many of the party come in now; null: everyone not yet in.
    people: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None


class UndoBody(msgspec.Struct, forbid_unknown_fields=True):
    device: str = "api"


# -- helpers -------------------------------------------------------------------------------


def _base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.base_url


def _event(session: Session, community: str, slug: str) -> Event:
    found = CommunityService(session).by_slug(community)
    return EventService(session).in_community(found, slug)


def _registration(session: Session, community: str, slug: str, ident: UUID) -> Registration:
    return RegistrationService(session).in_event(_event(session, community, slug), ident)


def _text_or_empty(value: int | None) -> str:
    return "" if value is None else str(value)


def _changed(registration: Registration, slug: str, promoted: list[Registration]) -> ChangedOut:
    return ChangedOut(
        registration=registration_out(registration, slug), promoted=[r.id for r in promoted]
    )


EVENTS_READ = api_access(Scope.EVENTS_READ)
EVENTS_WRITE = api_access(Scope.EVENTS_WRITE)
ATTENDEES_READ = api_access(Scope.ATTENDEES_READ)
ATTENDEES_WRITE = api_access(Scope.ATTENDEES_WRITE)
CHECK_IN = api_access(Scope.CHECK_IN)
E = "/events/{event:str}"
R = E + "/registrations/{registration:uuid}"


class OrganiserApiController(Controller):
    path = "/api/v1/manage/{community:str}"
    tags = ["organiser"]
    dependencies = {"api_caller": Provide(provide_api_caller, sync_to_thread=False)}
    security = [{"bearer": []}]

    # -- events ----------------------------------------------------------------------------
    @get(
        "/events",
        opt=EVENTS_READ,
        sync_to_thread=True,
        summary="List the community's events, drafts included",
        responses={200: ex.ok(ex.MANAGED_EVENT_LIST), **ex.TOKEN_ERRORS},
    )
    def list_events(
        self,
        request: Request,
        community: FromPath[str],
        db_session: NamedDependency[Session],
        status: Annotated[str, QueryParameter(description="draft, published or cancelled")] = "",
        starts_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        ends_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        updated_since: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> ManagedEventListOut:
        """The same order, filters and cursors as the public list."""
        now = utcnow()
        page = list_events(
            db_session,
            EventQuery(
                community=community,
                status=status,
                starts_from=starts_from,
                ends_to=ends_to,
                updated_since=updated_since,
                cursor=cursor,
                limit=limit,
                include_drafts=True,
            ),
            now=now,
        )
        base_url = _base_url(request)
        return ManagedEventListOut(
            data=[managed_event_out(event, base_url, now) for event in page.events],
            next_cursor=page.next_cursor,
            next=None,
        )

    @get(
        E,
        opt=EVENTS_READ,
        sync_to_thread=True,
        summary="One event of the community",
        responses={200: ex.ok(ex.MANAGED_EVENT), **ex.TOKEN_ERRORS},
    )
    def get_event(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> ManagedEventOut:
        found = _event(db_session, community, event)
        return managed_event_out(found, _base_url(request), utcnow())

    @post(
        "/events",
        opt=EVENTS_WRITE,
        sync_to_thread=True,
        summary="Create a draft event",
        responses={201: ex.ok(ex.MANAGED_EVENT, "Created"), **ex.TOKEN_WRITE_ERRORS},
    )
    def create_event(
        self,
        request: Request,
        community: FromPath[str],
        data: JSONBody[EventBody],
        db_session: NamedDependency[Session],
    ) -> ManagedEventOut:
        found = CommunityService(db_session).by_slug(community)
        values = msgspec.structs.asdict(data)
        values["capacity"] = _text_or_empty(data.capacity)
        created = EventService(db_session).create(found, EventInput(**values))
        return managed_event_out(created, _base_url(request), utcnow())

    @patch(
        E,
        opt=EVENTS_WRITE,
        sync_to_thread=True,
        summary="Change some fields of an event",
        responses={200: ex.ok(ex.MANAGED_EVENT), **ex.TOKEN_WRITE_ERRORS},
    )
    def update_event(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: JSONBody[EventChanges],
        db_session: NamedDependency[Session],
    ) -> ManagedEventOut:
        """Fields left out keep their values; the rules of the edit page apply (capacity
        never below the people holding a place, a raise promotes from the waitlist,
        registrants are mailed when the time or place moves)."""
        found = _event(db_session, community, event)
        changes = msgspec.structs.asdict(data)
        changes = {k: v for k, v in changes.items() if v is not msgspec.UNSET}
        if "capacity" in changes:
            changes["capacity"] = _text_or_empty(changes["capacity"])
        updated = EventService(db_session).amend(found, changes)
        return managed_event_out(updated, _base_url(request), utcnow())

    @post(
        E + "/publish",
        opt=EVENTS_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Publish a draft",
        responses={200: ex.ok(ex.MANAGED_EVENT), **ex.TOKEN_WRITE_ERRORS},
    )
    def publish_event(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> ManagedEventOut:
        found = _event(db_session, community, event)
        published = EventService(db_session).publish(found)
        return managed_event_out(published, _base_url(request), utcnow())

    @post(
        E + "/cancel",
        opt=EVENTS_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Cancel an event (a draft is deleted)",
        responses={200: ex.ok(ex.MANAGED_EVENT), **ex.TOKEN_WRITE_ERRORS},
    )
    def cancel_event(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: JSONBody[CancelBody],
        db_session: NamedDependency[Session],
    ) -> ManagedEventOut:
        """Everyone registered is mailed. A draft was never public: it is deleted, and the
        answer is its last state."""
        found = _event(db_session, community, event)
        answer = managed_event_out(found, _base_url(request), utcnow())
        cancelled = EventService(db_session).cancel(found, data.reason)
        if cancelled.status.value == "cancelled":
            answer = managed_event_out(cancelled, _base_url(request), utcnow())
        return answer

    # -- registrations ---------------------------------------------------------------------
    @get(
        E + "/registrations",
        opt=ATTENDEES_READ,
        sync_to_thread=True,
        summary="List or search registrations, with their answers",
        responses={200: ex.ok(ex.REGISTRATION_LIST), **ex.TOKEN_ERRORS},
    )
    def list_registrations(
        self,
        community: FromPath[str],
        event: FromPath[str],
        db_session: NamedDependency[Session],
        status: Annotated[
            RegistrationStatus | None, QueryParameter(description="one status; empty: all")
        ] = None,
        search: Annotated[str, QueryParameter(max_length=120, description="name or e-mail")] = "",
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_REGISTRATIONS_PAGE)] = 100,
    ) -> RegistrationListOut:
        """In order of registration (the waitlist in its order)."""
        found = _event(db_session, community, event)
        service = RegistrationService(db_session)
        rows = service.attendees(found, status=status, search=search, offset=offset, limit=limit)
        total = service.count_attendees(found, status=status, search=search)
        following = offset + len(rows)
        return RegistrationListOut(
            data=[registration_out(r, found.slug) for r in rows],
            total=total,
            next_offset=following if following < total else None,
        )

    @get(
        R,
        opt=ATTENDEES_READ,
        sync_to_thread=True,
        summary="One registration",
        responses={200: ex.ok(ex.REGISTRATION), **ex.TOKEN_ERRORS},
    )
    def get_registration(
        self,
        community: FromPath[str],
        event: FromPath[str],
        registration: FromPath[UUID],
        db_session: NamedDependency[Session],
    ) -> RegistrationOut:
        found = _registration(db_session, community, event, registration)
        return registration_out(found, event)

    @post(
        E + "/registrations",
        opt=ATTENDEES_WRITE,
        sync_to_thread=True,
        summary="Register someone",
        responses={201: ex.ok(ex.REGISTERED, "Registered"), **ex.TOKEN_WRITE_ERRORS},
    )
    def register(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: JSONBody[RegisterBody],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> RegisteredOut:
        """The outcome says where they are (confirmed, waitlisted, pending_approval,
        pending_email); a full event without a waitlist answers 409 ``event_full``."""
        found = _event(db_session, community, event)
        service = RegistrationService(
            db_session, actor_id=api_caller.user_id, lock=registrations_lock(request)
        )
        result = service.register(
            found,
            RegistrationInput(
                name=data.name,
                email=data.email,
                guests=data.guests,
                consent=data.consent,
                opt_in=data.opt_in,
                locale=data.locale,
                request_key=data.request_key,
                answers={FIELD_PREFIX + key: value for key, value in data.answers.items()},
                client=f"api:{api_caller.token_id}",
            ),
        )
        return RegisteredOut(
            outcome=result.outcome.value,
            registration=registration_out(result.registration, found.slug),
            waitlist_rank=service.waitlist_rank(result.registration),
        )

    def _act(
        self,
        session: Session,
        caller: Caller,
        community: str,
        event: str,
        registration: UUID,
        action: str,
        *args: Any,
    ) -> ChangedOut:
        found = _registration(session, community, event, registration)
        service = RegistrationService(session, actor_id=caller.user_id)
        outcome = getattr(service, action)(found, *args)
        promoted = outcome if isinstance(outcome, list) else []
        return _changed(found, event, promoted)

    @post(
        R + "/cancel",
        opt=ATTENDEES_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Cancel a registration",
        responses={200: ex.ok(ex.CHANGED), **ex.TOKEN_WRITE_ERRORS},
    )
    def cancel_registration(
        self,
        community: FromPath[str],
        event: FromPath[str],
        registration: FromPath[UUID],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> ChangedOut:
        """Frees the places; the waitlist moves up (``promoted``)."""
        return self._act(db_session, api_caller, community, event, registration, "cancel")

    @post(
        R + "/approve",
        opt=ATTENDEES_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Approve a registration waiting for a decision",
        responses={200: ex.ok(ex.CHANGED), **ex.TOKEN_WRITE_ERRORS},
    )
    def approve_registration(
        self,
        community: FromPath[str],
        event: FromPath[str],
        registration: FromPath[UUID],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> ChangedOut:
        return self._act(db_session, api_caller, community, event, registration, "approve")

    @post(
        R + "/decline",
        opt=ATTENDEES_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Decline a registration",
        responses={200: ex.ok(ex.CHANGED), **ex.TOKEN_WRITE_ERRORS},
    )
    def decline_registration(
        self,
        community: FromPath[str],
        event: FromPath[str],
        registration: FromPath[UUID],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> ChangedOut:
        return self._act(db_session, api_caller, community, event, registration, "decline")

    @post(
        R + "/guests",
        opt=ATTENDEES_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Change how many guests come along",
        responses={200: ex.ok(ex.CHANGED), **ex.TOKEN_WRITE_ERRORS},
    )
    def change_guests(
        self,
        community: FromPath[str],
        event: FromPath[str],
        registration: FromPath[UUID],
        data: JSONBody[GuestsBody],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> ChangedOut:
        return self._act(
            db_session, api_caller, community, event, registration, "change_guests", data.guests
        )

    # -- the door --------------------------------------------------------------------------
    @post(
        E + "/check-ins",
        opt=CHECK_IN,
        sync_to_thread=True,
        status_code=200,
        summary="Check someone in (idempotent by nonce)",
        responses={200: ex.ok(ex.SCAN, "The door's verdict"), **ex.TOKEN_WRITE_ERRORS},
    )
    def check_in(
        self,
        community: FromPath[str],
        event: FromPath[str],
        data: JSONBody[CheckInBody],
        db_session: NamedDependency[Session],
        api_caller: NamedDependency[Caller],
    ) -> ScanOut:
        """The door's own operation: a refusal is a verdict (``already_checked_in``,
        ``cancelled``, ``waitlisted``, ``pending``, ``other_event``, ``unknown``), not an
        error. The same ``nonce`` again answers the first verdict (``replayed``)."""
        found = _event(db_session, community, event)
        door = DoorService(db_session)
        fields = {"nonce": data.nonce, "device": data.device, "people": data.people}
        if data.registration_id is not None:
            arrival = arrival_input(fields, now=utcnow())
            result = door.check_in_registration(
                found, data.registration_id, arrival, actor_id=api_caller.user_id
            )
        else:
            scan = scan_input({**fields, "scanned": data.ticket}, now=utcnow())
            result = door.check_in(found, scan, actor_id=api_caller.user_id)
        return scan_out(result)

    @post(
        E + "/check-ins/{check_in:uuid}/undo",
        opt=CHECK_IN,
        sync_to_thread=True,
        status_code=200,
        summary="Take back an admission",
        responses={200: ex.ok(ex.SCAN, "The undone verdict"), **ex.TOKEN_WRITE_ERRORS},
    )
    def undo_check_in(
        self,
        community: FromPath[str],
        event: FromPath[str],
        check_in: FromPath[UUID],
        data: JSONBody[UndoBody],
        db_session: NamedDependency[Session],
    ) -> ScanOut:
        """409 ``already_undone`` the second time."""
        found = _event(db_session, community, event)
        undo = undo_input({"check_in_id": str(check_in), "device": data.device})
        return scan_out(DoorService(db_session).undo(found, undo))

    @get(
        E + "/check-ins",
        opt=CHECK_IN,
        sync_to_thread=True,
        summary="Export the check-in log",
        responses={200: ex.ok(ex.CHECK_IN_LOG), **ex.TOKEN_ERRORS},
    )
    def check_in_log(
        self, community: FromPath[str], event: FromPath[str], db_session: NamedDependency[Session]
    ) -> CheckInLogOut:
        """Every scan, undo and walk-in, newest first."""
        found = _event(db_session, community, event)
        return CheckInLogOut(data=[check_in_out(row) for row in DoorService(db_session).log(found)])
