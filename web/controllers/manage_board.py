"""The organiser's set-up of an event's open-space board
(``/manage/{community}/events/{event}/board``): switching it on and off, its settings, its
rooms (typed in or from the programme) and its time slots (breaks and plenaries as common
cells). The rules: events/services/boards.py. Facilitator links are made on the door page
(a door link with the facilitator role)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import Event, Membership
from events.services.boards import (
    BoardService,
    BoardSettingsInput,
    RoomInput,
    SlotInput,
    posting_opens_choice,
)
from web.auth import Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.messages import field_errors
from web.path_objects import MANAGED_EVENT, MEMBERSHIP
from web.rendering import flash, page

PAGE = "manage/board.html"


def _local_input(moment: datetime | None, zone: str) -> str:
    """What a ``datetime-local`` input shows for ``moment`` in the event's zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


class SettingsForm(Form):
    posting_opens: str = "now"
    posting_opens_local: str = ""
    topics_per_person: str = "2"
    freeze_minutes: str = "15"

    def to_input(self) -> BoardSettingsInput:
        return BoardSettingsInput(
            posting_opens=self.posting_opens,
            posting_opens_local=self.posting_opens_local,
            topics_per_person=self.topics_per_person,
            freeze_minutes=self.freeze_minutes,
        )


class RoomForm(Form):
    name: str = ""
    capacity: str = ""


class ProgrammeRoomsForm(Form):
    capacity: str = ""


class SlotForm(Form):
    start_time: str = ""
    minutes: str = "45"
    common_label: str = ""


class ManageBoardController(Controller):
    path = "/manage/{community:str}/events/{event:str}/board"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_EVENT}

    def _here(self, membership: Membership, event: Event) -> str:
        return f"/manage/{membership.community.slug}/events/{event.slug}/board"

    def _render(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        membership: Membership,
        event: Event,
        *,
        form: str = "",
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        service = BoardService(session)
        board = service.of(event)
        return page(
            request,
            PAGE,
            status_code=status_code,
            community=membership.community,
            event=event,
            board=board,
            rooms=service.rooms(board) if board else [],
            slots=service.slots(board) if board else [],
            programme_rooms=service.programme_rooms(event, board) if board else [],
            topics=service.topic_count(board) if board else 0,
            opens=posting_opens_choice(board, event) if board else "now",
            opens_local=_local_input(board.posting_opens_at, event.timezone) if board else "",
            failed_form=form,
            values=values or {},
            errors=errors or {},
        )

    def _failed(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        membership: Membership,
        event: Event,
        form: str,
        values: dict[str, str],
        failed: ValidationFailed,
    ) -> Response[Any]:
        return self._render(
            request,
            session,
            membership,
            event,
            form=form,
            values=values,
            errors=field_errors(failed.errors),
            status_code=400,
        )

    def _done(
        self, request: Request[Any, Any, Any], membership: Membership, event: Event, message: str
    ) -> Redirect:
        flash(request, message)
        return Redirect(self._here(membership, event), status_code=303)

    def _remove(
        self,
        request: Request[Any, Any, Any],
        membership: Membership,
        event: Event,
        remove: Callable[[], None],
        *,
        gone: str,
        done: str,
    ) -> Redirect:
        """Remove a room or a slot; a stale page's second click is said, not a 404."""
        try:
            remove()
        except NotFound:
            flash(request, gone, "error")
            return Redirect(self._here(membership, event), status_code=303)
        return self._done(request, membership, event, done)

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        return self._render(request, db_session, membership, managed_event)

    @post("/on", opt=access(Access.ORGANISER), sync_to_thread=True)
    def switch_on(
        self,
        request: Request[Any, Any, Any],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        BoardService(db_session).switch_on(managed_event)
        return self._done(request, membership, managed_event, _("The open-space board is on."))

    @post("/off", opt=access(Access.ORGANISER), sync_to_thread=True)
    def switch_off(
        self,
        request: Request[Any, Any, Any],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        BoardService(db_session).switch_off(managed_event)
        message = _("The open-space board is off: participants no longer see it.")
        return self._done(request, membership, managed_event, message)

    @post("/settings", opt=access(Access.ORGANISER), sync_to_thread=True)
    def settings(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[SettingsForm],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = BoardService(db_session)
        try:
            service.change_settings(
                managed_event, service.require(managed_event, enabled_only=False), data.to_input()
            )
        except ValidationFailed as failed:
            values = {
                "posting_opens": data.posting_opens[:10],
                "posting_opens_local": data.posting_opens_local[:20],
                "topics_per_person": data.topics_per_person[:5],
                "freeze_minutes": data.freeze_minutes[:5],
            }
            return self._failed(
                request, db_session, membership, managed_event, "settings", values, failed
            )
        return self._done(request, membership, managed_event, _("Board settings saved."))

    @post("/rooms", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_room(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[RoomForm],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = BoardService(db_session)
        board = service.require(managed_event, enabled_only=False)
        try:
            service.add_room(board, RoomInput(name=data.name, capacity=data.capacity))
        except ValidationFailed as failed:
            values = {"name": data.name[:100], "capacity": data.capacity[:10]}
            return self._failed(
                request, db_session, membership, managed_event, "room", values, failed
            )
        return self._done(request, membership, managed_event, _("Room added."))

    @post("/rooms/programme", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_programme_rooms(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[ProgrammeRoomsForm],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = BoardService(db_session)
        board = service.require(managed_event, enabled_only=False)
        try:
            service.add_programme_rooms(managed_event, board, data.capacity)
        except ValidationFailed as failed:
            values = {"programme_capacity": data.capacity[:10]}
            failed.errors = {
                ("programme_capacity" if name == "capacity" else name): code
                for name, code in failed.errors.items()
            }
            return self._failed(
                request, db_session, membership, managed_event, "programme_rooms", values, failed
            )
        return self._done(request, membership, managed_event, _("The programme's rooms are added."))

    @post("/rooms/{room_id:uuid}/delete", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_room(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        service = BoardService(db_session)
        return self._remove(
            request,
            membership,
            managed_event,
            lambda: service.remove_room(
                managed_event, service.require(managed_event, enabled_only=False), room_id
            ),
            gone=_("This room is not on the board (any more)."),
            done=_("Room removed; its topics are back in the pool."),
        )

    @post("/slots", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_slot(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[SlotForm],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = BoardService(db_session)
        board = service.require(managed_event, enabled_only=False)
        slot = SlotInput(
            start_time=data.start_time, minutes=data.minutes, common_label=data.common_label
        )
        try:
            service.add_slot(managed_event, board, slot)
        except ValidationFailed as failed:
            values = {
                "start_time": data.start_time[:10],
                "minutes": data.minutes[:5],
                "common_label": data.common_label[:100],
            }
            return self._failed(
                request, db_session, membership, managed_event, "slot", values, failed
            )
        return self._done(request, membership, managed_event, _("Time slot added."))

    @post("/slots/{slot_id:uuid}/delete", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_slot(
        self,
        request: Request[Any, Any, Any],
        slot_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        service = BoardService(db_session)
        return self._remove(
            request,
            membership,
            managed_event,
            lambda: service.remove_slot(
                managed_event, service.require(managed_event, enabled_only=False), slot_id
            ),
            gone=_("This time slot is not on the board (any more)."),
            done=_("Time slot removed; its topics are back in the pool."),
        )
