"""What the door's scanner calls (``/door/{event}/...``): scan, inspect (careful mode),
undo, the name search and its check-in button, walk-ins.

Every action accepts a plain form (the page works without JavaScript) or JSON
(static/js/door.js), and answers in kind; JSON errors are problem details (web/errors.py).
The body becomes a dict (web/request_body.py: bounded in size and depth) and the domain
cleans it (events/services/door_input.py): nothing here judges a field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, RawBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, ValidationFailed
from events.services.door import DoorService, ScanResult
from events.services.door_input import (
    arrival_input,
    scan_input,
    scanned_code,
    search_term,
    undo_input,
    walk_in_input,
)
from web.auth import session_user_id
from web.door.access import (
    DOOR_DEPENDENCIES,
    DoorAccess,
    check_door,
    door_opt,
    forgetting_expired_link,
    session_link_id,
)
from web.door.answers import json_answer, new_nonce, verdict_answer, verdict_page
from web.door.verdicts import door_status_labels, result_json, verdict_message, walk_in_refusal
from web.errors import ExplainedError, error_response, wants_json
from web.i18n import current_locale
from web.messages import error_message, field_errors
from web.rendering import flash, mark_for_rollback, page
from web.request_body import MAX_JSON_BYTES, read_fields
from web.write_batch import WriteBatcher

WALK_IN_FIELDS = ("name", "guests", "email")


class DoorScanController(Controller):
    path = "/door/{event:str}"
    include_in_schema = False
    dependencies = DOOR_DEPENDENCIES

    # -- scans ----------------------------------------------------------------------------
    @post("/scan", opt=door_opt(), request_max_body_size=MAX_JSON_BYTES)
    async def scan(
        self, request: Request[Any, Any, Any], event: FromPath[str], body: RawBody
    ) -> Response[Any]:
        """The door's hot write: through the group-commit batcher (web/write_batch.py), so
        many phones scanning at once share transactions. Access is checked in the batch,
        once per batch and caller, not by the ``door`` dependency."""
        user_id, link_id = session_user_id(request), session_link_id(request)
        try:
            scan = scan_input(read_fields(request, body), now=utcnow())
        except (ValidationFailed, ExplainedError):
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
                door.event, scan, actor_id=door.actor_id, door_link_id=door.door_link_id
            )
            return door, result

        batcher: WriteBatcher = request.app.state.write_batcher
        with forgetting_expired_link(request):
            door, result = await batcher.run(unit, lock_order=f"event:{event}")
        return verdict_answer(request, door.event, result)

    @staticmethod
    def _check_access(request: Request[Any, Any, Any], slug: str) -> None:
        db: Database = request.app.state.db
        with db.session() as session, forgetting_expired_link(request):
            check_door(session, slug, session_user_id(request), session_link_id(request), utcnow())

    @post("/inspect", opt=door_opt(), sync_to_thread=True, request_max_body_size=MAX_JSON_BYTES)
    def inspect(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        code = scanned_code(read_fields(request, body))
        result = DoorService(db_session).inspect(door.event, code)
        return verdict_answer(request, door.event, result, inspecting=True, code=code)

    @post("/undo", opt=door_opt(), sync_to_thread=True, request_max_body_size=MAX_JSON_BYTES)
    def undo(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        undo = undo_input(read_fields(request, body))
        try:
            result = DoorService(db_session).undo(door.event, undo)
        except Conflict as refused:
            if wants_json(request):
                raise
            mark_for_rollback(request)
            flash(request, error_message(refused.code), "error")
            return Redirect(f"/door/{door.event.slug}", status_code=303)
        if wants_json(request):
            return json_answer(result_json(result, door.event))
        return page(
            request,
            "door/verdict.html",
            fragment="door/_verdict.html",
            event=door.event,
            result=None,  # no "undo" button under an undo
            tone="warn",
            message=verdict_message(result, door.event),
            detail="",
            inspecting=False,
            nonce=new_nonce(),
        )

    # -- by name --------------------------------------------------------------------------
    @get("/search", opt=door_opt(), sync_to_thread=True)
    def search(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
        q: FromQuery[str] = "",
    ) -> Template:
        term = search_term(q)
        return page(
            request,
            "door/search.html",
            fragment="door/_search.html",
            event=door.event,
            q=term.text,
            rows=DoorService(db_session).search(door.event, term),
            too_short=term.too_short,
            nonce=new_nonce(),
            status_labels=door_status_labels(),
        )

    @post(
        "/registrations/{item_id:uuid}/check-in",
        opt=door_opt(),
        sync_to_thread=True,
        request_max_body_size=MAX_JSON_BYTES,
    )
    def check_in_by_name(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        item_id: FromPath[UUID],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        arrival = arrival_input(read_fields(request, body), now=utcnow())
        result = DoorService(db_session).check_in_registration(
            door.event,
            item_id,
            arrival,
            actor_id=door.actor_id,
            door_link_id=door.door_link_id,
        )
        return verdict_answer(request, door.event, result)

    # -- walk-ins -------------------------------------------------------------------------
    @post("/walk-in", opt=door_opt(), sync_to_thread=True, request_max_body_size=MAX_JSON_BYTES)
    def walk_in(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        body: RawBody,
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        data = read_fields(request, body)
        try:
            result = DoorService(db_session).walk_in(
                door.event,
                walk_in_input(data),
                locale=current_locale.get(),
                actor_id=door.actor_id,
                door_link_id=door.door_link_id,
            )
        except ValidationFailed as failed:
            if wants_json(request):
                raise
            return self._walk_in_form(request, door, data, field_errors(failed.errors), 400)
        except Conflict as refused:
            message = walk_in_refusal(refused.code)
            if wants_json(request):
                return error_response(request, 409, message, code=refused.code)
            return self._walk_in_form(request, door, data, {"form": message}, 409)
        if wants_json(request):
            return json_answer(result_json(result, door.event))
        return verdict_page(request, door.event, result, fragment="door/_walk_in_done.html")

    @staticmethod
    def _walk_in_form(
        request: Request[Any, Any, Any],
        door: DoorAccess,
        data: dict[str, Any],
        errors: dict[str, str],
        status: int,
    ) -> Template:
        """The walk-in form again, with what was typed and why it was refused."""
        values = {name: data.get(name) for name in WALK_IN_FIELDS}
        return page(
            request,
            "door/walk_in.html",
            fragment="door/_walk_in.html",
            status_code=status,
            event=door.event,
            values={name: value for name, value in values.items() if isinstance(value, str)},
            errors=errors,
            nonce=new_nonce(),
        )
