"""The door's live counters (``/door/{event}/counters`` and ``/live``): checked in and
expected, walk-ins, arrivals per 10 minutes, offline conflicts, on every door device and on
the organiser's door page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from time import monotonic
from typing import Any

import anyio
import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromHeader
from litestar.response import Stream, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound
from events.services.door import DoorService
from web.auth import session_user_id
from web.door.access import (
    DOOR_DEPENDENCIES,
    DoorAccess,
    DoorLinkExpired,
    NoDoorAccess,
    check_door,
    door_opt,
    session_link_id,
)
from web.door.answers import NO_STORE
from web.door.counters import counters_of
from web.rendering import page

#: How often the live stream reads the counters from the database, and how long it lasts
#: before the browser reconnects (EventSource does so by itself).
LIVE_POLL_SECONDS = 2.0
LIVE_STREAM_SECONDS = 300.0
LIVE_KEEPALIVE_SECONDS = 20.0


def _as_json(counters: dict[str, Any]) -> str:
    return json.dumps(counters, separators=(",", ":"))


class DoorLiveController(Controller):
    path = "/door/{event:str}"
    include_in_schema = False
    dependencies = DOOR_DEPENDENCIES

    @get("/counters", opt=door_opt(), sync_to_thread=True)
    def counters(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
    ) -> Template:
        """The counters as a fragment (no-JavaScript refresh, and the stream's fallback)."""
        return page(
            request,
            "door/counters.html",
            fragment="door/_counters.html",
            event=door.event,
            counters=counters_of(db_session, door.event),
        )

    @get("/live", opt=door_opt(json_only=True), sync_to_thread=True)
    def live(
        self,
        request: Request[Any, Any, Any],
        door: NamedDependency[DoorAccess],
        db_session: NamedDependency[Session],
        accept: FromHeader[str] = "",
    ) -> Response[Any]:
        """Server-sent events: the counters, read from the database every few seconds and
        sent when they change. Each stream reads the database itself, so any number of
        server processes serve them (no in-process state). A client that does not ask for
        ``text/event-stream`` gets one event and the end of the stream."""
        db: Database = request.app.state.db
        user_id, link_id = session_user_id(request), session_link_id(request)
        slug = door.event.slug
        first = _as_json(counters_of(db_session, door.event))
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
                return changed, _as_json(counters_of(session, current.event))

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
