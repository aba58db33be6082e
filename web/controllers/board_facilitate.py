"""The facilitators' view of an open-space board (``/e/{event}/board/facilitate``): the grid
with the pool and the queue; placing topics (drag and drop, the keyboard, or a plain form),
pinning, queueing, freezing slots, hiding topics, and suggesting a layout.

Who facilitates: web/board/access.py. Every action is a plain form (Post/Redirect/Get, a
refusal flashed on the page) and answers JSON to the board's script (problem details with
the refusal's code); the grid stays current over its own live stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromHeader, FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import DomainError, NotFound, ValidationFailed
from events.models import Board
from events.services.board_placement import BoardPlacement
from events.services.board_state import board_state
from events.services.boards import BoardService
from web.board.access import FACILITATOR_DEPENDENCIES, facilitator_opt, provide_facilitator
from web.board.live import BoardWatch, board_stream, board_to_stream, live_response
from web.board.views import cell_choices, live_context, parse_cell, renderer
from web.door.access import DoorAccess
from web.errors import wants_json
from web.forms import Form
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.page_cache import template_engine
from web.rendering import flash, mark_for_rollback, page

HEADERS = {"cache-control": "no-store", "x-robots-tag": "noindex, nofollow"}
_TRUE = frozenset({"on", "true", "1", "yes"})


class CellForm(Form):
    #: "slot-id:room-id" (the plain form's choice), or the two apart (the script).
    cell: str = ""
    slot: str = ""
    room: str = ""


class SwitchForm(Form):
    value: str = "on"

    @property
    def on(self) -> bool:
        return self.value.strip().lower() in _TRUE


def _here(facilitator: DoorAccess) -> str:
    return f"/e/{facilitator.event.slug}/board/facilitate"


class BoardFacilitateController(Controller):
    path = "/e/{event:str}/board/facilitate"
    include_in_schema = False
    dependencies = FACILITATOR_DEPENDENCIES

    def _placement(self, session: Session, facilitator: DoorAccess) -> BoardPlacement:
        event = facilitator.event
        return BoardPlacement(session, event, BoardService(session).require(event))

    def _act(
        self,
        request: Request[Any, Any, Any],
        facilitator: DoorAccess,
        action: Callable[[], object],
        done: str,
        anchor: str = "board-grid",
    ) -> Response[Any]:
        """Run one placement use case; JSON for the script, a redirect with a flashed
        outcome for plain forms (a refusal changes nothing)."""
        if wants_json(request):
            action()  # refusals become problem details (web/errors.py)
            return Response({"ok": True}, status_code=200, headers=HEADERS)
        try:
            action()
        except ValidationFailed as failed:
            mark_for_rollback(request)
            flash(request, " ".join(field_errors(failed.errors).values()), "error")
        except NotFound:
            mark_for_rollback(request)
            flash(request, _("This topic, room or slot is not on the board (any more)."), "error")
        except DomainError as refused:
            mark_for_rollback(request)
            flash(request, error_message(refused.code, **refused.params), "error")
        else:
            flash(request, done)
        return Redirect(f"{_here(facilitator)}#{anchor}", status_code=303, headers=HEADERS)

    @get("/", opt=facilitator_opt(), sync_to_thread=True)
    def board(
        self,
        request: Request[Any, Any, Any],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Template:
        event = facilitator.event
        board = BoardService(db_session).require(event, enabled_only=False)
        state = board_state(db_session, board, hidden_too=True)
        moment = state.at(utcnow())
        response = page(
            request,
            "board/facilitate.html",
            **live_context(state, event, moment),
            choices=cell_choices(state, event, moment),
            via_link=facilitator.door_link_id is not None,
        )
        response.headers.update(HEADERS)
        return response

    @get("/live", opt=facilitator_opt(json_only=True))
    async def live(
        self,
        request: Request[Any, Any, Any],
        event: FromPath[str],
        accept: FromHeader[str] = "",
    ) -> Response[Any]:
        """The facilitators' grid over server-sent events; the request holds no session
        (web/board/live.py)."""

        def find(session: Session) -> Board:
            facilitator = provide_facilitator(request, event, session)
            return BoardService(session).require(facilitator.event, enabled_only=False)

        board_id = await board_to_stream(request.app.state.db, find)
        watch: BoardWatch = request.app.state.board_watch
        stream = board_stream(
            watch,
            board_id,
            view="facilitate",
            locale=current_locale.get(),
            render=renderer(template_engine(request), "facilitate"),
            allowed=lambda _snapshot: True,
            streaming="text/event-stream" in (accept or ""),
        )
        return live_response(stream)

    @post("/topics/{topic_id:uuid}/place", opt=facilitator_opt(), sync_to_thread=True)
    def place(
        self,
        request: Request[Any, Any, Any],
        topic_id: FromPath[UUID],
        data: URLEncodedBody[CellForm],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        slot, room = parse_cell(data.cell) if data.cell else (data.slot, data.room)
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.place(topic_id, room, slot),
            _("Topic placed."),
        )

    @post("/topics/{topic_id:uuid}/unplace", opt=facilitator_opt(), sync_to_thread=True)
    def unplace(
        self,
        request: Request[Any, Any, Any],
        topic_id: FromPath[UUID],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.unplace(topic_id),
            _("Topic back in the pool."),
            "board-pool",
        )

    @post("/topics/{topic_id:uuid}/queue", opt=facilitator_opt(), sync_to_thread=True)
    def queue(
        self,
        request: Request[Any, Any, Any],
        topic_id: FromPath[UUID],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.queue(topic_id),
            _("Topic queued for the next pitch round."),
            "board-queue",
        )

    @post("/topics/{topic_id:uuid}/pin", opt=facilitator_opt(), sync_to_thread=True)
    def pin(
        self,
        request: Request[Any, Any, Any],
        topic_id: FromPath[UUID],
        data: URLEncodedBody[SwitchForm],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.pin(topic_id, data.on),
            _("Topic pinned: it stays in its cell.") if data.on else _("Topic unpinned."),
        )

    @post("/topics/{topic_id:uuid}/hide", opt=facilitator_opt(), sync_to_thread=True)
    def hide(
        self,
        request: Request[Any, Any, Any],
        topic_id: FromPath[UUID],
        data: URLEncodedBody[SwitchForm],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.hide(topic_id, data.on),
            _("Topic hidden: nobody but facilitators sees it.")
            if data.on
            else _("Topic shown again, back in the pool."),
            "board-hidden" if data.on else "board-pool",
        )

    @post("/slots/{slot_id:uuid}/freeze", opt=facilitator_opt(), sync_to_thread=True)
    def freeze(
        self,
        request: Request[Any, Any, Any],
        slot_id: FromPath[UUID],
        data: URLEncodedBody[SwitchForm],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        return self._act(
            request,
            facilitator,
            lambda: placement.freeze(slot_id, data.on),
            _("Slot frozen: its topics stay where they are.")
            if data.on
            else _("Slot open again: its topics can move."),
        )

    @post("/suggest", opt=facilitator_opt(), sync_to_thread=True)
    def suggest(
        self,
        request: Request[Any, Any, Any],
        facilitator: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        placement = self._placement(db_session, facilitator)
        message = _("Layout suggested: the open cells are filled where the rules allow.")
        return self._act(request, facilitator, placement.suggest, message)
