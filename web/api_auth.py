"""Who calls the organiser API: the personal access token in ``Authorization: Bearer``.

A route declares ``opt=api_access(Scope.X)``; the app-wide guard (web/auth.py) calls
:func:`authenticate_api_call`, which checks the token, its community (the path's
``{community}``) and the scope through events/services/api_tokens.py, records the use at
most once a minute, and leaves the :class:`~events.services.api_tokens.Caller` in the
request scope for the handler (``api_caller`` dependency). Errors are problem details:
401 without a valid token, 404 for another community's token, 403 without the scope.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers.base import BaseRouteHandler

from events.clock import utcnow
from events.database import Database
from events.errors import Unauthenticated
from events.models import Scope
from events.services.api_tokens import ApiTokenService, Caller

CALLER_KEY = "rencontres.api_caller"


def bearer_token(connection: ASGIConnection) -> str:
    header = connection.headers.get("authorization", "")
    kind, _sep, value = header.strip().partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise Unauthenticated("token_missing")
    return value.strip()


async def authenticate_api_call(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    scope = handler.opt.get("scope")
    slug = connection.path_params.get("community")
    if not isinstance(scope, Scope) or not isinstance(slug, str):
        raise ImproperlyConfiguredException(f"{handler.handler_name}: API route without scope")
    plain = bearer_token(connection)
    db: Database = connection.app.state.db
    now = utcnow()

    def check() -> Caller:
        with db.session() as session:
            service = ApiTokenService(session)
            caller = service.authenticate(plain, now=now)
            service.require(caller, slug, scope)
        if caller.due_for_touch(now):
            with db.transaction() as session:
                ApiTokenService(session).touch(caller.token_id, now=now)
        return caller

    connection.scope[CALLER_KEY] = await anyio.to_thread.run_sync(check)  # type: ignore[literal-required]


def provide_api_caller(request: Request[Any, Any, Any]) -> Caller:
    """The authenticated caller of an organiser API route (the guard put it there)."""
    return request.scope[CALLER_KEY]  # type: ignore[literal-required,no-any-return]
