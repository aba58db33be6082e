"""Server-side sessions, stored in the database, tuned for a mostly-anonymous site.

Litestar's stock backend writes a session (and sets a cookie) on every response, even an
empty one for an anonymous visitor. This backend:
- writes nothing and sets no cookie while the session is empty (public pages stay
  read-only and cookie-free);
- skips the write when the data did not change, refreshing the expiry at most daily;
- gives the session a fresh id at login and deletes the old one (no session fixation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

ROTATE_FLAG = "rencontres.rotate_session"
NEW_ID = "rencontres.new_session_id"
LOADED = "rencontres.session_loaded"
RENEWED_AT = "_renewed"
RENEW_EVERY_SECONDS = 24 * 3600


def _marks(connection: ASGIConnection) -> dict[str, Any]:
    """The request's scope as the plain dict it is: this module's own keys live there for
    the length of one request (the scope's declared type knows only ASGI's keys)."""
    return cast(dict[str, Any], connection.scope)


def rotate_session_id(connection: ASGIConnection) -> None:
    """Ask for a fresh session id on this response (call at login)."""
    _marks(connection)[ROTATE_FLAG] = True


class QuietSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        marks = _marks(connection)
        if marks.get(ROTATE_FLAG):
            if not marks.get(NEW_ID):
                marks[NEW_ID] = self.generate_session_id()
            new_id: str = marks[NEW_ID]
            return new_id
        return super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        _marks(connection)[LOADED] = dict(data)
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        cookie_id = connection.cookies.get(self.config.key)
        has_cookie = bool(cookie_id) and cookie_id != "null"
        rotating = bool(_marks(connection).get(ROTATE_FLAG))
        store = self.config.get_store_from_app(connection.scope["app"])
        if rotating and has_cookie:
            await self.delete(cookie_id, store=store)  # type: ignore[arg-type]
        if scope_session is Empty or not scope_session:
            if has_cookie and not rotating:
                await super().store_in_message(Empty, message, connection)
            return
        assert isinstance(scope_session, dict)
        loaded: dict[str, Any] = _marks(connection).get(LOADED, {})
        fresh = time.time() - float(loaded.get(RENEWED_AT, 0)) < RENEW_EVERY_SECONDS
        if has_cookie and not rotating and scope_session == loaded and fresh:
            return
        scope_session[RENEWED_AT] = time.time()
        await super().store_in_message(scope_session, message, connection)


@dataclass
class QuietSessionConfig(ServerSideSessionConfig):
    _backend_class = QuietSessionBackend
