"""Server-side sessions whose id changes at login (no session fixation)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)

ROTATE_FLAG = "rencontres.rotate_session"


def rotate_session_id(connection: ASGIConnection) -> None:
    """Ask for a fresh session id on this response (call at login)."""
    connection.scope[ROTATE_FLAG] = True  # type: ignore[literal-required]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        if connection.scope.get(ROTATE_FLAG):  # type: ignore[misc]
            new_id = connection.scope.get("rencontres.new_session_id")  # type: ignore[misc]
            if not new_id:
                new_id = self.generate_session_id()
                connection.scope["rencontres.new_session_id"] = new_id  # type: ignore[literal-required]
            return new_id
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session, message, connection) -> None:
        old_id = connection.cookies.get(self.config.key)
        if connection.scope.get(ROTATE_FLAG) and old_id and old_id != "null":  # type: ignore[misc]
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
