"""Who may open which route.

Every route handler declares ``opt={"access": Access.X}``; one app-wide guard enforces
it. A handler without a declaration refuses to serve (and the authorisation-matrix test
fails), so a new route cannot ship unguarded by accident.

Community-scoped levels read the ``{community}`` path parameter: a non-member gets 404
(another community's objects do not exist for them), a member whose role is too small 403.
"""

from __future__ import annotations

import enum
from uuid import UUID

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.orm import Session

from events.database import Database
from events.models import Membership, Role, Scope, User
from events.services.accounts import AccountService
from events.services.communities import CommunityService
from web.api_auth import authenticate_api_call
from web.csrf import EXCLUDE_OPT

SESSION_USER_KEY = "user_id"


class Access(enum.StrEnum):
    PUBLIC = "public"  # anyone
    TOKEN = "token"  # anyone holding an unguessable token in the URL (checked by the handler)
    USER = "user"  # any logged-in organiser account
    MEMBER = "member"  # member of the path's community, whatever the role
    DOOR = "door"  # member of the path's community with role door or above
    # Door role or above in the community of the path's {event}, or a door link of that
    # event held in the session: checked by the door dependency (web/door/access.py), which
    # answers 401 without either and 404 to an account with no role there.
    EVENT_DOOR = "event_door"
    # The same with the facilitator role and a facilitator link: the open-space board's
    # facilitation (web/board/access.py).
    EVENT_FACILITATOR = "event_facilitator"
    ORGANISER = "organiser"
    OWNER = "owner"
    #: A personal access token of the path's {community} holding the route's ``scope``
    #: (web/api_auth.py); no session involved.
    API = "api"

    @property
    def minimum_role(self) -> Role | None:
        return {
            Access.DOOR: Role.DOOR,
            Access.ORGANISER: Role.ORGANISER,
            Access.OWNER: Role.OWNER,
        }.get(self)

    @property
    def community_scoped(self) -> bool:
        """Checked by the guard against the path's ``{community}``."""
        return self is Access.MEMBER or self.minimum_role is not None


#: Route opt: the answer holds personal data, so no cache may keep it (web/security.py).
PERSONAL_DATA = "personal_data"


def access(level: Access, *, personal_data: bool | None = None) -> dict[str, object]:
    """The ``opt`` mapping a route handler declares its access level with.

    ``personal_data``: whether the answer shows personal data (it is then sent with
    ``Cache-Control: no-store``). By default, every route behind a login or a token does
    (organiser and door pages, exports, private pages, personal feeds) and public routes do
    not; a public route showing someone's data (a ticket) says ``personal_data=True``."""
    opt: dict[str, object] = {"access": level}
    if personal_data is not None:
        opt[PERSONAL_DATA] = personal_data
    return opt


#: The ``opt`` of an RFC 8058 one-click unsubscribe (a POST a mail client sends without
#: a cookie or a CSRF token; its path is also in web/app.py's ``STATELESS_PATHS``): the
#: link's secret is the proof, only the recipient received it.
ONE_CLICK_OPT: dict[str, object] = {**access(Access.TOKEN), EXCLUDE_OPT: True}


def api_access(scope: Scope) -> dict[str, Access | Scope]:
    """The ``opt`` of an organiser API route: a token with ``scope`` in the path's community."""
    return {"access": Access.API, "scope": scope}


def session_user_id(connection: ASGIConnection) -> UUID | None:
    raw = connection.scope.get("session") or {}
    value = raw.get(SESSION_USER_KEY) if isinstance(raw, dict) else None
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def handler_access(handler: BaseRouteHandler) -> Access:
    level = handler.opt.get("access")
    if level is None and getattr(handler, "http_methods", None) == {"OPTIONS"}:
        return Access.PUBLIC  # Litestar's automatic OPTIONS handlers reveal nothing
    if not isinstance(level, Access):
        raise ImproperlyConfiguredException(f"route {handler.handler_name} declares no access")
    return level


def shows_personal_data(handler: BaseRouteHandler) -> bool:
    """Whether ``handler``'s answers hold personal data (see :func:`access`)."""
    declared = handler.opt.get(PERSONAL_DATA)
    if isinstance(declared, bool):
        return declared
    return handler.opt.get("access") not in {Access.PUBLIC, None}


async def check_access(request: Request) -> None:
    """Every request's access check, run by Litestar before the handler's dependencies
    (the app's ``before_request``). Not a Litestar guard: Litestar hands each guard a
    copy of the route handler, made anew on every request, which was 8 % of a
    registration's time (docs/performance.md)."""
    handler = request.route_handler
    level = handler_access(handler)
    if level in {Access.PUBLIC, Access.TOKEN, Access.EVENT_DOOR, Access.EVENT_FACILITATOR}:
        return
    if level is Access.API:
        await authenticate_api_call(request, handler)
        return
    user_id = session_user_id(request)
    if user_id is None:
        raise NotAuthorizedException()
    if not level.community_scoped:
        return
    minimum = level.minimum_role
    slug = request.path_params.get("community")
    if not isinstance(slug, str):
        raise ImproperlyConfiguredException(f"{handler.handler_name}: no {{community}} in path")
    db: Database = request.app.state.db

    def check() -> None:
        with db.session() as session:
            CommunityService(session).require_role(user_id, slug, minimum)

    await anyio.to_thread.run_sync(check)


def provide_current_user(request: Request, db_session: NamedDependency[Session]) -> User | None:
    user_id = session_user_id(request)
    return AccountService(db_session).get(user_id) if user_id else None


def provide_membership(request: Request, db_session: NamedDependency[Session]) -> Membership:
    """The caller's membership in the path's community (the guard already checked it)."""
    level = handler_access(request.route_handler)
    return CommunityService(db_session).require_role(
        session_user_id(request), request.path_params["community"], level.minimum_role
    )
