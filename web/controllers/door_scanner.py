"""The door's pages (``/door/{event}``): opening a door link (a facilitator link opens the
open-space board instead), the scanner page and the entrance poster. Who gets in:
web/door/access.py; what the scanner calls: web/controllers/door_scan.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound
from events.models import Role
from events.qr import qr_svg
from events.services.door import event_days, is_event_day
from events.services.door_links import DoorLinkService
from events.services.events import EventService
from web.auth import Access, access, session_user_id
from web.board.access import BOARD_LINK_KEY
from web.door.access import (
    DOOR_DEPENDENCIES,
    DOOR_LINK_KEY,
    DoorAccess,
    DoorLinkExpired,
    door_opt,
)
from web.door.answers import NO_STORE, new_nonce
from web.door.counters import counters_of
from web.rendering import page, session_of
from web.sessions import rotate_session_id
from web.settings import Settings

PAGE_HEADERS = {
    **NO_STORE,
    "x-robots-tag": "noindex, nofollow",
    "vary": "HX-Request, Accept-Language, Cookie",
}
JSQR_FILE = "vendor/jsQR-1.4.0.js"


def _register_url(request: Request[Any, Any, Any], slug: str) -> str:
    settings: Settings = request.app.state.settings
    return f"{settings.base_url.rstrip('/')}/e/{slug}/register"


class DoorScannerController(Controller):
    path = "/door/{event:str}"
    include_in_schema = False
    dependencies = DOOR_DEPENDENCIES

    @get(
        "/link/{token:str}",
        opt=access(Access.TOKEN),
        sync_to_thread=True,
    )
    def open_link(
        self,
        request: Request[Any, Any, Any],
        event: FromPath[str],
        token: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        # One answer for unknown, revoked, expired and other events' tokens (no oracle).
        gone = DoorLinkExpired(event, logged_in=session_user_id(request) is not None)
        try:
            link = DoorLinkService(db_session).resolve(token[:200], now=utcnow())
            found = EventService(db_session).by_slug(event, public=False)
        except NotFound:
            raise gone from None
        if link.event_id != found.id:
            raise gone
        key = BOARD_LINK_KEY if link.role is Role.FACILITATOR else DOOR_LINK_KEY
        if session_of(request).get(key) != str(link.id):
            # Like a login: a fresh session id, so a planted one cannot ride on the link.
            # The same link opened again (the QR scanned twice, a second tab) keeps the
            # session: a new id would void the CSRF token of the tabs already open, and
            # with it the scans they queued offline.
            rotate_session_id(request)
        if link.role is Role.FACILITATOR:  # a facilitator link opens the open-space board
            request.set_session({**session_of(request), BOARD_LINK_KEY: str(link.id)})
            return Redirect(f"/e/{found.slug}/board/facilitate", status_code=303, headers=NO_STORE)
        request.set_session({**session_of(request), DOOR_LINK_KEY: str(link.id)})
        return Redirect(f"/door/{found.slug}", status_code=303, headers=NO_STORE)

    @get("/", opt=door_opt(), sync_to_thread=True)
    def scanner(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Template:
        return Template(
            "door/scanner.html",
            context={
                "event": door.event,
                "event_days": " ".join(day.isoformat() for day in event_days(door.event)),
                "not_today": not is_event_day(door.event, utcnow()),
                "via_link": door.door_link_id is not None,
                "counters": counters_of(db_session, door.event),
                "nonce": new_nonce(),
                "jsqr_file": JSQR_FILE,
            },
            headers=PAGE_HEADERS,
        )

    @get("/poster", opt=door_opt(), sync_to_thread=True)
    def poster(
        self, request: Request[Any, Any, Any], door: NamedDependency[DoorAccess]
    ) -> Template:
        url = _register_url(request, door.event.slug)
        return page(request, "door/poster.html", event=door.event, register_url=url)

    @get("/poster-qr.svg", opt=door_opt(), sync_to_thread=True)
    def poster_qr(
        self, request: Request[Any, Any, Any], door: NamedDependency[DoorAccess]
    ) -> Response[bytes]:
        return Response(
            qr_svg(_register_url(request, door.event.slug)),
            media_type="image/svg+xml",
            headers={"cache-control": "private, max-age=3600"},
        )
