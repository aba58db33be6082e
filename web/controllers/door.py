"""The door of one event (``/door/{event}``): the scanner page and what it calls.

Who gets in: a logged-in member of the event's community with the door role or above, or
a volunteer holding a door link (``/door/{event}/link/{token}`` stores the link's id in the
session). The app-wide guard cannot check this (it needs ``{community}`` in the path), so
every handler here is declared ``Access.EVENT_DOOR`` and starts with :func:`door_access`,
which re-checks the link (revoked, expired, other event) on every request:

- a link of another event, or a logged-in account with no door role in the event's
  community: 404, this event's door does not exist for them;
- a revoked or expired link: 410, and the session forgets it;
- not logged in and no link: 401; the scanner page's 401 is a sign-in page (log in, or
  open the organiser's door link). Nothing about the event's registrants is in any of
  these answers.

The door sees names, party sizes and statuses, never an e-mail address. Every action
(scan, inspect, undo, check-in from the search, walk-in) accepts a plain form (the page
works without JavaScript) or JSON (static/js/door.js), and answers in kind; JSON errors are
problem details, never an HTML page.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import anyio
import anyio.to_thread
from babel.dates import format_date as babel_format_date
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromHeader, FromPath, FromQuery, RawBody
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, DomainError, NotFound, ValidationFailed
from events.models import Event, Role
from events.qr import qr_svg
from events.services.communities import CommunityService
from events.services.door import DoorService, ScanResult, Verdict
from events.services.door_links import DoorLinkService, is_live
from events.services.events import WITHOUT_COLLECTIONS, EventService
from web.auth import Access, access, session_user_id
from web.i18n import current_locale, format_time, ngettext
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.rendering import flash, page, session_of
from web.sessions import rotate_session_id
from web.settings import Settings
from web.write_batch import WriteBatcher

#: Session key of the door link this browser opened (its id, never the token).
DOOR_LINK_KEY = "door_link"
#: JSON bodies of the door are a few hundred bytes; anything much larger is refused early.
MAX_JSON_BYTES = 16 * 1024
MAX_SCANNED = 500
MAX_DEVICE = 60
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MIN_SEARCH_LENGTH = 2
#: How often the live stream reads the counters from the database, and how long it lasts
#: before the browser reconnects (EventSource does so by itself).
LIVE_POLL_SECONDS = 2.0
LIVE_STREAM_SECONDS = 300.0
LIVE_KEEPALIVE_SECONDS = 20.0
#: Offline scans may carry their real time; one from the future (a wrong phone clock) or
#: older than this is recorded at the time the server receives it.
MAX_OFFLINE_AGE = timedelta(days=2)
NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer", "vary": "Cookie"}
PAGE_HEADERS = {
    **NO_STORE,
    "x-robots-tag": "noindex, nofollow",
    "vary": "HX-Request, Accept-Language, Cookie",
}
SERVICE_WORKER = Path(__file__).resolve().parents[2] / "static" / "js" / "door-sw.js"
JSQR_FILE = "vendor/jsQR-1.4.0.js"
DOOR_OPT = "door_api"


# -- who is at the door -------------------------------------------------------------------
class NoDoorAccess(Exception):
    """Neither a door membership nor a door link: the sign-in page (or a 303 to it)."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


class DoorLinkExpired(Exception):
    """The session's door link was revoked or has expired."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


@dataclass(frozen=True)
class DoorAccess:
    event: Event
    actor_id: UUID | None
    door_link_id: UUID | None


def _session_link_id(request: Request) -> UUID | None:
    value = session_of(request).get(DOOR_LINK_KEY)
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _forget_link(request: Request) -> None:
    session = request.scope.get("session")
    if isinstance(session, dict) and DOOR_LINK_KEY in session:
        session.pop(DOOR_LINK_KEY)


def check_door(
    session: Session, slug: str, user_id: UUID | None, link_id: UUID | None, now: datetime
) -> DoorAccess:
    """The caller's door access to event ``slug`` (raises NotFound, NoDoorAccess or
    DoorLinkExpired). A member's role wins over a link held in the same session."""
    # The door never shows the event's tags or cover: two queries fewer per batch of scans.
    event = EventService(session).by_slug(slug, public=False, options=WITHOUT_COLLECTIONS)
    if user_id is not None:
        membership = CommunityService(session).membership(user_id, event.community.slug)
        if membership is not None and membership.role.at_least(Role.DOOR):
            return DoorAccess(event=event, actor_id=user_id, door_link_id=None)
    if link_id is None:
        if user_id is not None:  # an account with no role there: as for an unknown event
            raise NotFound()
        raise NoDoorAccess(slug)
    # A link of another event raises NotFound: for its holder, this event does not exist.
    link = DoorLinkService(session).in_event(event, link_id)
    if not is_live(link, now):
        raise DoorLinkExpired(slug)
    return DoorAccess(event=event, actor_id=None, door_link_id=link.id)


def door_access(request: Request, session: Session, slug: str) -> DoorAccess:
    return check_door(session, slug, session_user_id(request), _session_link_id(request), utcnow())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- errors -------------------------------------------------------------------------------
class BadInput(Exception):
    """A door request the server cannot use (bad JSON, missing or oversized fields)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _wants_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return (
        bool(request.route_handler.opt.get(DOOR_OPT))
        or content_type.startswith("application/json")
        or (accept.startswith("application/json"))
    )


def problem(status: int, title: str, errors: dict[str, str] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if errors:
        body["errors"] = errors
    return Response(
        body, status_code=status, media_type="application/problem+json", headers=NO_STORE
    )


def _signin(request: Request, slug: str, *, expired: bool = False) -> Response[Any]:
    current = session_user_id(request) is not None
    return page(
        request,
        "door/signin.html",
        slug=slug,
        logged_in=current,
        expired=expired,
        status_code=410 if expired else 401,
    )


def no_access_handler(request: Request, exc: NoDoorAccess) -> Response[Any]:
    """Not logged in and no door link: 401, with the sign-in page for browsers."""
    if _wants_json(request):
        return problem(401, _("Door access needed"))
    return _signin(request, exc.slug)


def link_expired_handler(request: Request, exc: DoorLinkExpired) -> Response[Any]:
    _forget_link(request)
    if _wants_json(request):
        return problem(410, _("This door link is no longer valid."))
    return _signin(request, exc.slug, expired=True)


def door_errors(errors: dict[str, str]) -> dict[str, str]:
    """Field messages, with the door's own codes (not in web/messages.py) spelled out."""
    own = {
        "invalid_json": _("The request body is not valid JSON."),
        "already_registered": _(
            "This e-mail address is already registered: find the person by name instead."
        ),
    }
    messages = field_errors(errors)
    for name, code in errors.items():
        if code in own:
            messages[name] = own[code]
    return messages


def bad_input_handler(request: Request, exc: BadInput) -> Response[Any]:
    errors = door_errors(exc.errors)
    if _wants_json(request):
        return problem(400, _("Bad request"), errors)
    return page(
        request,
        "errors/error.html",
        status_code=400,
        status=400,
        title=_("Bad request"),
        detail=" ".join(errors.values()),
        errors=errors,
    )


def json_http_error_handler(request: Request, exc: HTTPException) -> Response[Any]:
    """Body too large, body unreadable...: problem details for the scanner's JSON calls."""
    if _wants_json(request):
        return problem(exc.status_code, str(exc.detail or _("Bad request")))
    from web.errors import http_exception_handler

    return http_exception_handler(request, exc)


def json_domain_error_handler(request: Request, exc: DomainError) -> Response[Any]:
    if _wants_json(request):
        if isinstance(exc, ValidationFailed):
            return problem(400, _("Bad request"), field_errors(exc.errors))
        if isinstance(exc, NotFound):
            return problem(404, _("Page not found"))
        status = 409 if isinstance(exc, Conflict) else 400
        return problem(status, error_message(exc.code or "", **exc.params))
    from web.errors import domain_error_handler

    return domain_error_handler(request, exc)


EXCEPTION_HANDLERS: dict[Any, Callable[..., Response[Any]]] = {
    NoDoorAccess: no_access_handler,
    DoorLinkExpired: link_expired_handler,
    BadInput: bad_input_handler,
    HTTPException: json_http_error_handler,
    DomainError: json_domain_error_handler,
}


# -- input --------------------------------------------------------------------------------
def read_payload(request: Request, body: bytes) -> dict[str, Any]:
    """A JSON object or a urlencoded form, as a dict (first value of each form field)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadInput({"form": "invalid_json"}) from None
        if not isinstance(data, dict):
            raise BadInput({"form": "invalid_json"})
        return data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput({"form": "invalid_characters"}) from None
    return {key: values[0] for key, values in parse_qs(text, max_num_fields=50).items()}


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput({name: "invalid_choice"})
    value = value.strip()
    if "\x00" in value:
        raise BadInput({name: "invalid_characters"})
    if len(value) > limit:
        raise BadInput({name: "too_long"})
    if required and not value:
        raise BadInput({name: "required"})
    return value


def _nonce(data: dict[str, Any]) -> str:
    value = _text(data, "nonce", 64)
    if not value:
        return uuid.uuid4().hex  # a plain form without one: at least never a false replay
    if not NONCE.match(value):
        raise BadInput({"nonce": "invalid_characters"})
    return value


def _people(data: dict[str, Any]) -> int | None:
    value = data.get("people")
    if value in (None, "", "all"):
        return None
    if isinstance(value, bool):
        raise BadInput({"people": "invalid_number"})
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise BadInput({"people": "invalid_number"}) from None
    if not isinstance(value, int) or not 1 <= value <= 1000:
        raise BadInput({"people": "out_of_range"})
    return value


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    return value is True or value in ("on", "true", "1")


def _scanned_at(data: dict[str, Any], now: datetime) -> datetime | None:
    value = data.get("scanned_at")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise BadInput({"scanned_at": "invalid_datetime"})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput({"scanned_at": "invalid_datetime"}) from None
    moment = _aware(moment).astimezone(UTC)
    if moment > now + timedelta(minutes=1) or moment < now - MAX_OFFLINE_AGE:
        return None  # a wrong device clock: the server's time is better than nonsense
    return moment


@dataclass(frozen=True)
class ScanInput:
    scanned: str
    nonce: str
    device: str
    people: int | None
    scanned_at: datetime | None
    offline: bool


def scan_input(data: dict[str, Any], now: datetime) -> ScanInput:
    return ScanInput(
        scanned=_text(data, "scanned", MAX_SCANNED, required=True),
        nonce=_nonce(data),
        device=_text(data, "device", MAX_DEVICE),
        people=_people(data),
        scanned_at=_scanned_at(data, now),
        offline=_flag(data, "offline"),
    )


# -- what the door says -------------------------------------------------------------------
TONES = {
    Verdict.ADMITTED: "ok",
    Verdict.ALREADY_CHECKED_IN: "warn",
}


def long_date(value: datetime, zone: str | None) -> str:
    """``Thursday 4 December`` (no year: the door wants it short)."""
    if zone:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(zone))
    return babel_format_date(value, "EEEE d MMMM", locale=current_locale.get())


def verdict_message(result: ScanResult, event: Event, *, inspecting: bool = False) -> str:
    """The sentence the volunteer reads on the full-screen verdict."""
    name = result.name or ""
    verdict = result.verdict
    if verdict is Verdict.ADMITTED:
        if inspecting:
            return ngettext(
                "Valid ticket: %(name)s — party of %(num)s",
                "Valid ticket: %(name)s — party of %(num)s",
                result.party,
                name=name,
            )
        if result.arrived < result.party:
            return _(
                "Welcome, %(name)s — %(arrived)s of %(party)s in",
                name=name,
                arrived=result.arrived,
                party=result.party,
            )
        if result.party > 1:
            return _("Welcome, %(name)s — party of %(party)s", name=name, party=result.party)
        return _("Welcome, %(name)s", name=name)
    if verdict is Verdict.ALREADY_CHECKED_IN:
        if result.first_checked_in_at is None:
            return _("Already checked in")
        time = format_time(result.first_checked_in_at, event.timezone)
        if result.first_device:
            return _(
                "Already checked in at %(time)s (%(device)s)",
                time=time,
                device=result.first_device,
            )
        return _("Already checked in at %(time)s", time=time)
    if verdict is Verdict.CANCELLED:
        return _("Cancelled")
    if verdict is Verdict.WAITLISTED:
        return _("On the waitlist")
    if verdict is Verdict.PENDING:
        return _("Awaiting approval")
    if verdict is Verdict.OTHER_EVENT:
        if result.other_event_starts_at is not None:
            day = long_date(result.other_event_starts_at, result.other_event_timezone)
            return _("Ticket for another date: %(date)s", date=day)
        return _("Ticket for another event")
    return _("Unknown ticket")


def verdict_detail(result: ScanResult) -> str:
    if result.verdict is Verdict.OTHER_EVENT and result.other_event_title:
        return result.other_event_title
    if result.verdict in {Verdict.CANCELLED, Verdict.WAITLISTED, Verdict.PENDING} and result.name:
        return result.name
    return ""


def result_json(result: ScanResult, event: Event, *, inspecting: bool = False) -> dict[str, Any]:
    body = dict(result.as_json())
    body.pop("email", None)  # belt and braces: the domain never puts it there
    body["message"] = verdict_message(result, event, inspecting=inspecting)
    body["detail"] = verdict_detail(result)
    body["tone"] = TONES.get(result.verdict, "bad")
    return body


# -- counters -----------------------------------------------------------------------------
def counters_view(counters: Any, event: Event) -> dict[str, Any]:
    """Counters as plain data (JSON for the live stream, context for the templates)."""
    arrivals = [(moment, int(count)) for moment, count in (counters.arrivals or [])]
    peak = max((count for _moment, count in arrivals), default=0)
    bars = [
        {
            "time": format_time(moment, event.timezone),
            "count": count,
            "level": round(10 * count / peak) if peak else 0,
        }
        for moment, count in arrivals
    ]
    return {
        "checked_in": int(counters.checked_in),
        "expected": int(counters.expected),
        "walk_ins": int(counters.walk_ins),
        "parties_checked_in": int(getattr(counters, "parties_checked_in", 0) or 0),
        "conflicts": _count(getattr(counters, "conflicts", 0)),
        "arrivals": bars,
    }


def _count(value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        return len(value)
    except TypeError:
        return 0


def counters_of(session: Session, event: Event) -> dict[str, Any]:
    return counters_view(DoorService(session).counters(event, now=utcnow()), event)


# -- the controller -----------------------------------------------------------------------
def _door_opt(*, page_route: bool = False, json_only: bool = False) -> dict[str, Any]:
    opt: dict[str, Any] = dict(access(Access.EVENT_DOOR))
    if page_route:
        opt["door_page"] = True
    if json_only:
        opt[DOOR_OPT] = True
    return opt


def _new_nonce() -> str:
    return uuid.uuid4().hex


def _base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.base_url.rstrip("/")


class DoorController(Controller):
    path = "/door/{event:str}"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    # -- opening a door link --------------------------------------------------------------
    @get(
        "/link/{token:str}",
        opt={**_door_opt(page_route=True), **access(Access.TOKEN)},
        sync_to_thread=True,
    )
    def open_link(
        self,
        request: Request,
        event: FromPath[str],
        token: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            link = DoorLinkService(db_session).resolve(token[:200], now=utcnow())
            found = EventService(db_session).by_slug(event, public=False)
        except NotFound:
            # One answer for unknown, revoked and expired tokens (no oracle).
            return _signin(request, event, expired=True)
        if link.event_id != found.id:
            return _signin(request, event, expired=True)
        # Like a login: a fresh session id, so a planted one cannot ride on the link.
        rotate_session_id(request)
        request.set_session({**session_of(request), DOOR_LINK_KEY: str(link.id)})
        return Redirect(f"/door/{found.slug}", status_code=303, headers=NO_STORE)

    # -- the scanner page -----------------------------------------------------------------
    @get("/", opt=_door_opt(page_route=True), sync_to_thread=True)
    def scanner(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        door = door_access(request, db_session, event)
        return Template(
            "door/scanner.html",
            context={
                "event": door.event,
                "via_link": door.door_link_id is not None,
                "counters": counters_of(db_session, door.event),
                "nonce": _new_nonce(),
                "jsqr_file": JSQR_FILE,
            },
            headers=PAGE_HEADERS,
        )

    # -- scans ----------------------------------------------------------------------------
    def _result_page(
        self,
        request: Request,
        door: DoorAccess,
        result: ScanResult,
        *,
        inspecting: bool = False,
        scanned: str = "",
    ) -> Template:
        return page(
            request,
            "door/verdict.html",
            fragment="door/_verdict.html",
            event=door.event,
            result=result,
            tone=TONES.get(result.verdict, "bad"),
            message=verdict_message(result, door.event, inspecting=inspecting),
            detail=verdict_detail(result),
            inspecting=inspecting,
            scanned=scanned,
            nonce=_new_nonce(),
        )

    def _answer(
        self,
        request: Request,
        door: DoorAccess,
        result: ScanResult,
        *,
        inspecting: bool = False,
        scanned: str = "",
    ) -> Response[Any]:
        if _wants_json(request):
            return Response(
                result_json(result, door.event, inspecting=inspecting),
                headers=NO_STORE,
                status_code=200,
            )
        return self._result_page(request, door, result, inspecting=inspecting, scanned=scanned)

    @staticmethod
    def _check_access(request: Request, slug: str) -> None:
        db: Database = request.app.state.db
        with db.session() as session:
            door_access(request, session, slug)

    @post("/scan", opt=_door_opt(), request_max_body_size=MAX_JSON_BYTES)
    async def scan(self, request: Request, event: FromPath[str], body: RawBody) -> Response[Any]:
        """The door's hot write: through the group-commit batcher (web/write_batch.py), so
        many phones scanning at once share transactions."""
        user_id, link_id = session_user_id(request), _session_link_id(request)
        try:
            scan = scan_input(read_payload(request, body), utcnow())
        except BadInput:
            # Who may not scan here hears that first, whatever the body.
            await anyio.to_thread.run_sync(self._check_access, request, event)
            raise

        def unit(session: Session) -> tuple[DoorAccess, ScanResult]:
            # Checked once per batch and caller: loading the event with its community,
            # venue and tags, then the membership or link, was half of each scan's time.
            checked: dict[tuple[Any, ...], DoorAccess] = session.info.setdefault(
                "rencontres.door_access", {}
            )
            key = (event, user_id, link_id)
            if key not in checked:
                checked[key] = check_door(session, event, user_id, link_id, utcnow())
            door = checked[key]
            result = DoorService(session).check_in(
                door.event,
                scan.scanned,
                nonce=scan.nonce,
                device=scan.device,
                people=scan.people,
                scanned_at=scan.scanned_at,
                offline=scan.offline,
                actor_id=door.actor_id,
                door_link_id=door.door_link_id,
            )
            return door, result

        batcher: WriteBatcher = request.app.state.write_batcher
        door, result = await batcher.run(unit)
        return self._answer(request, door, result)

    @post(
        "/inspect",
        opt=_door_opt(),
        sync_to_thread=True,
        request_max_body_size=MAX_JSON_BYTES,
    )
    def inspect(
        self,
        request: Request,
        event: FromPath[str],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        door = door_access(request, db_session, event)
        data = read_payload(request, body)
        scanned = _text(data, "scanned", MAX_SCANNED, required=True)
        result = DoorService(db_session).inspect(door.event, scanned)
        return self._answer(request, door, result, inspecting=True, scanned=scanned)

    @post(
        "/undo",
        opt=_door_opt(),
        sync_to_thread=True,
        request_max_body_size=MAX_JSON_BYTES,
    )
    def undo(
        self,
        request: Request,
        event: FromPath[str],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        door = door_access(request, db_session, event)
        data = read_payload(request, body)
        raw_id = _text(data, "check_in_id", 64, required=True)
        try:
            check_in_id = UUID(raw_id)
        except ValueError:
            raise BadInput({"check_in_id": "invalid_choice"}) from None
        device = _text(data, "device", MAX_DEVICE)
        try:
            result = DoorService(db_session).undo(door.event, check_in_id, device=device)
        except Conflict:
            message = _("This check-in was already undone.")
            if _wants_json(request):
                return problem(409, message)
            flash(request, message, "error")
            return Redirect(f"/door/{door.event.slug}", status_code=303)
        name = result.name or ""
        message = _("Check-in undone: %(name)s", name=name)
        if _wants_json(request):
            body_json = dict(result.as_json())
            body_json.pop("email", None)
            body_json.update(message=message, detail="", tone="warn")
            return Response(body_json, headers=NO_STORE, status_code=200)
        return page(
            request,
            "door/verdict.html",
            fragment="door/_verdict.html",
            event=door.event,
            result=None,
            tone="warn",
            message=message,
            detail="",
            inspecting=False,
            nonce=_new_nonce(),
        )

    # -- by name --------------------------------------------------------------------------
    @get("/search", opt=_door_opt(), sync_to_thread=True)
    def search(
        self,
        request: Request,
        event: FromPath[str],
        db_session: NamedDependency[Session],
        q: FromQuery[str] = "",
    ) -> Template:
        door = door_access(request, db_session, event)
        term = " ".join((q or "").split())[:120]
        rows = (
            DoorService(db_session).search(door.event, term)
            if len(term) >= MIN_SEARCH_LENGTH
            else []
        )
        return page(
            request,
            "door/search.html",
            fragment="door/_search.html",
            event=door.event,
            q=term,
            rows=rows,
            too_short=bool(term) and len(term) < MIN_SEARCH_LENGTH,
            nonce=_new_nonce(),
            status_labels=door_status_labels(),
        )

    @post(
        "/registrations/{item_id:uuid}/check-in",
        opt=_door_opt(),
        sync_to_thread=True,
        request_max_body_size=MAX_JSON_BYTES,
    )
    def check_in_by_name(
        self,
        request: Request,
        event: FromPath[str],
        item_id: FromPath[UUID],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        door = door_access(request, db_session, event)
        data = read_payload(request, body)
        result = DoorService(db_session).check_in_registration(
            door.event,
            item_id,
            nonce=_nonce(data),
            device=_text(data, "device", MAX_DEVICE),
            people=_people(data),
            actor_id=door.actor_id,
            door_link_id=door.door_link_id,
        )
        return self._answer(request, door, result)

    # -- walk-ins -------------------------------------------------------------------------
    @post(
        "/walk-in",
        opt=_door_opt(),
        sync_to_thread=True,
        request_max_body_size=MAX_JSON_BYTES,
    )
    def walk_in(
        self,
        request: Request,
        event: FromPath[str],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        door = door_access(request, db_session, event)
        data = read_payload(request, body)
        values = {
            "name": _text(data, "name", 200),
            "guests": _text(data, "guests", 10),
            "email": _text(data, "email", 320),
        }
        guests_text = values["guests"] or "0"
        errors: dict[str, str] = {}
        try:
            guests = int(guests_text)
            if not 0 <= guests <= 100:
                errors["guests"] = "out_of_range"
        except ValueError:
            guests = 0
            errors["guests"] = "invalid_number"
        if not errors:
            try:
                result = DoorService(db_session).walk_in(
                    door.event,
                    name=values["name"],
                    guests=guests,
                    email=values["email"],
                    locale=current_locale.get(),
                    device=_text(data, "device", MAX_DEVICE),
                    nonce=_nonce(data),
                    actor_id=door.actor_id,
                    door_link_id=door.door_link_id,
                )
            except ValidationFailed as failed:
                errors = dict(failed.errors)
            except Conflict as refused:
                errors = {"form": refused.code or "event_full"}
        if errors:
            messages = door_errors(errors)
            if "form" in errors:
                messages["form"] = walk_in_refusal(errors["form"])
            if _wants_json(request):
                return problem(400 if "form" not in errors else 409, _("Bad request"), messages)
            return page(
                request,
                "door/walk_in.html",
                fragment="door/_walk_in.html",
                status_code=400 if "form" not in errors else 409,
                event=door.event,
                values=values,
                errors=messages,
                nonce=_new_nonce(),
            )
        if _wants_json(request):
            return Response(result_json(result, door.event), headers=NO_STORE, status_code=200)
        return page(
            request,
            "door/verdict.html",
            fragment="door/_walk_in_done.html",
            event=door.event,
            result=result,
            tone=TONES.get(result.verdict, "bad"),
            message=verdict_message(result, door.event),
            detail=verdict_detail(result),
            inspecting=False,
            nonce=_new_nonce(),
        )

    # -- live counters --------------------------------------------------------------------
    @get("/counters", opt=_door_opt(), sync_to_thread=True)
    def counters(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        """The counters as a fragment (no-JavaScript refresh, and the stream's fallback)."""
        door = door_access(request, db_session, event)
        return page(
            request,
            "door/counters.html",
            fragment="door/_counters.html",
            event=door.event,
            counters=counters_of(db_session, door.event),
        )

    @get("/live", opt=_door_opt(json_only=True), sync_to_thread=True)
    def live(
        self,
        request: Request,
        event: FromPath[str],
        db_session: NamedDependency[Session],
        accept: FromHeader[str] = "",
    ) -> Response[Any]:
        """Server-sent events: the counters, read from the database every few seconds and
        sent when they change. Each stream reads the database itself, so any number of
        server processes serve them (no in-process state). A client that does not ask for
        ``text/event-stream`` gets one event and the end of the stream."""
        door = door_access(request, db_session, event)
        db: Database = request.app.state.db
        user_id = session_user_id(request)
        link_id = _session_link_id(request)
        slug = door.event.slug
        first = json.dumps(counters_of(db_session, door.event), separators=(",", ":"))
        streaming = "text/event-stream" in (accept or "")

        marker = DoorService(db_session).changes(door.event)

        def read(seen: str) -> tuple[str, str | None] | None:
            """(marker, counters JSON or None when unchanged), None once access is gone."""
            with db.session() as session:
                try:
                    current = check_door(session, slug, user_id, link_id, utcnow())
                except (NotFound, NoDoorAccess, DoorLinkExpired):
                    return None
                changed = DoorService(session).changes(current.event)
                if changed == seen:
                    return changed, None
                body = json.dumps(counters_of(session, current.event), separators=(",", ":"))
                return changed, body

        async def events() -> AsyncIterator[bytes]:
            yield f"retry: 3000\nevent: counters\ndata: {first}\n\n".encode()
            if not streaming:
                return
            seen, last = marker, first
            quiet_since, deadline = monotonic(), monotonic() + LIVE_STREAM_SECONDS
            while monotonic() < deadline:
                await anyio.sleep(LIVE_POLL_SECONDS)
                answer = await anyio.to_thread.run_sync(read, seen)
                if answer is None:
                    yield b"event: closed\ndata: {}\n\n"
                    return
                seen, current = answer
                if current is not None and current != last:
                    last, quiet_since = current, monotonic()
                    yield f"event: counters\ndata: {current}\n\n".encode()
                elif monotonic() - quiet_since > LIVE_KEEPALIVE_SECONDS:
                    quiet_since = monotonic()
                    yield b": still here\n\n"

        return Stream(
            events(),
            media_type="text/event-stream",
            headers={**NO_STORE, "x-accel-buffering": "no"},
        )

    # -- offline --------------------------------------------------------------------------
    @get("/snapshot.json", opt=_door_opt(json_only=True), sync_to_thread=True)
    def snapshot(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        door = door_access(request, db_session, event)
        return Response(
            DoorService(db_session).snapshot(door.event), headers=NO_STORE, status_code=200
        )

    @get("/sw.js", opt=access(Access.PUBLIC), sync_to_thread=True)
    def service_worker(self, event: FromPath[str]) -> Response[bytes]:
        """The offline worker, served from the door's own path so that its scope can cover
        ``/door/{event}`` (a worker under /static/ could only control /static/)."""
        slug = event if re.fullmatch(r"[\w-]{1,120}", event) else "_"
        return Response(
            SERVICE_WORKER.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={
                "service-worker-allowed": f"/door/{slug}",
                "cache-control": "no-cache",
            },
        )

    # -- the entrance poster --------------------------------------------------------------
    @get("/poster", opt=_door_opt(), sync_to_thread=True)
    def poster(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        door = door_access(request, db_session, event)
        url = f"{_base_url(request)}/e/{door.event.slug}/register"
        return page(request, "door/poster.html", event=door.event, register_url=url)

    @get("/poster-qr.svg", opt=_door_opt(), sync_to_thread=True)
    def poster_qr(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        door = door_access(request, db_session, event)
        url = f"{_base_url(request)}/e/{door.event.slug}/register"
        return Response(
            qr_svg(url),
            media_type="image/svg+xml",
            headers={"cache-control": "private, max-age=3600"},
        )


def door_status_labels() -> dict[str, str]:
    return {
        "confirmed": _("Confirmed"),
        "admitted": _("Confirmed"),
        "checked_in": _("Checked in"),
        "already_checked_in": _("Checked in"),
        "waitlisted": _("On the waitlist"),
        "pending": _("Awaiting approval"),
        "pending_approval": _("Awaiting approval"),
        "pending_email": _("Awaiting e-mail confirmation"),
        "cancelled": _("Cancelled"),
        "declined": _("Declined"),
    }


def walk_in_refusal(code: str) -> str:
    if code in {"event_full", "not_enough_free_places", "full"}:
        return _(
            "No place left for this party. The organiser can allow walk-ins beyond capacity "
            "on the door page."
        )
    return error_message(code)
