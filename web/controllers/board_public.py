"""The open-space board for everyone (``/e/{event}/board``): the board itself, the projector
view (``/screen``), the live stream every view listens to (``/live``), and joining from the
board's QR poster with one's ticket (``/join``, ``/poster``).

Nothing here is personal: hosts appear by first name only and only if they chose it, and
who marked what is never shown. The participant's own view is ``/t/{code}/board``
(web/controllers/board_participant.py); the facilitators' is ``/e/{event}/board/facilitate``
(web/controllers/board_facilitate.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromHeader, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound
from events.models import Event
from events.qr import qr_svg
from events.services.board_state import board_state
from events.services.board_topics import join
from events.services.boards import BoardService
from web.auth import Access, access
from web.board.live import BoardWatch, board_stream, board_to_stream, live_response
from web.board.views import PUBLIC_VIEWS, live_context, renderer
from web.errors import JsonApi, json_api
from web.forms import Form
from web.i18n import current_locale
from web.i18n import gettext as _
from web.page_cache import template_engine
from web.path_objects import PUBLIC_EVENT, provide_public_event
from web.rendering import page
from web.settings import Settings
from web.throttle import client_key

PAGE_HEADERS = {"cache-control": "no-cache"}


class JoinForm(Form):
    ticket: str = ""


def join_url(request: Request[Any, Any, Any], event: Event) -> str:
    settings: Settings = request.app.state.settings
    return f"{settings.base_url.rstrip('/')}/e/{event.slug}/board/join"


def _context(session: Session, event: Event) -> dict[str, Any]:
    board = BoardService(session).require(event)
    state = board_state(session, board)
    return live_context(state, event, state.at(utcnow()))


class BoardPublicController(Controller):
    path = "/e/{event:str}/board"
    include_in_schema = False
    dependencies = PUBLIC_EVENT

    @get("/", opt=access(Access.PUBLIC), sync_to_thread=True)
    def board(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Template:
        return page(request, "board/public.html", **_context(db_session, public_event))

    @get("/screen", opt=access(Access.PUBLIC), sync_to_thread=True)
    def screen(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Template:
        """The projector: full screen, large type, no controls, a QR code to join."""
        return Template(
            "board/screen.html",
            context={
                **_context(db_session, public_event),
                "join_url": join_url(request, public_event),
            },
            headers=PAGE_HEADERS,
        )

    @get("/live", opt={**access(Access.PUBLIC), **json_api(JsonApi.ONLY)})
    async def live(
        self,
        request: Request[Any, Any, Any],
        event: FromPath[str],
        view: FromQuery[str] = "public",
        accept: FromHeader[str] = "",
    ) -> Response[Any]:
        """Server-sent events: the ``view`` (public, screen or phone) again whenever the
        board changes. The stream reads the database itself, so any process serves it; the
        request holds no session (web/board/live.py)."""
        if view not in PUBLIC_VIEWS:
            raise NotFound()
        board_id = await board_to_stream(
            request.app.state.db,
            lambda session: BoardService(session).require(provide_public_event(event, session)),
        )
        watch: BoardWatch = request.app.state.board_watch
        stream = board_stream(
            watch,
            board_id,
            view=view,
            locale=current_locale.get(),
            render=renderer(template_engine(request), view),
            allowed=lambda snapshot: snapshot.state.enabled,
            streaming="text/event-stream" in (accept or ""),
        )
        return live_response(stream)

    @get("/join", opt=access(Access.PUBLIC), sync_to_thread=True)
    def join_form(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Template:
        """Where the board's poster leads: it asks for the ticket."""
        BoardService(db_session).require(public_event)
        return page(request, "board/join.html", event=public_event, values={}, errors={})

    @post("/join", opt=access(Access.PUBLIC), sync_to_thread=True)
    def join(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        data: URLEncodedBody[JoinForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        BoardService(db_session).require(public_event)
        try:
            who = join(db_session, public_event, data.ticket, client=client_key(request))
        except NotFound:
            return page(
                request,
                "board/join.html",
                status_code=400,
                event=public_event,
                values={"ticket": data.ticket[:200]},
                errors={"ticket": _("This is not a ticket for this event. Check the code.")},
            )
        return Redirect(
            f"/t/{who.registration.ticket_code}/board",
            status_code=303,
            headers={"referrer-policy": "no-referrer"},
        )

    @get("/poster", opt=access(Access.PUBLIC), sync_to_thread=True)
    def poster(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Template:
        """A printable poster: scan to join the board with your ticket."""
        BoardService(db_session).require(public_event)
        return page(
            request,
            "board/poster.html",
            event=public_event,
            join_url=join_url(request, public_event),
        )

    @get("/join-qr.svg", opt=access(Access.PUBLIC), sync_to_thread=True)
    def join_qr(
        self,
        request: Request[Any, Any, Any],
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[bytes]:
        BoardService(db_session).require(public_event)
        return Response(
            qr_svg(join_url(request, public_event)),
            media_type="image/svg+xml",
            headers={"cache-control": "public, max-age=3600"},
        )
