"""Who facilitates one event's open-space board.

A logged-in member of the event's community with the facilitator role, an organiser or an
owner, or a volunteer holding a facilitator link of that event (a door link with the
facilitator role, opened at ``/door/{event}/link/{token}``, which keeps its id in the
session under :data:`BOARD_LINK_KEY`). The rules are the door's (web/door/access.py), with
the facilitator role: a link of another event or an account with no role there: 404; a
revoked or expired link: 410; nobody: 401, a sign-in page for browsers.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Role
from web.auth import Access, access, session_user_id
from web.door.access import DoorAccess, check_door
from web.errors import ErrorWithPage, JsonApi, json_api
from web.i18n import gettext as _
from web.rendering import session_of

#: Session key of the facilitator link this browser opened (its id, never the token).
BOARD_LINK_KEY = "board_link"
SIGN_IN_PAGE = "board/signin.html"


class NoFacilitatorAccess(ErrorWithPage):
    def __init__(self, slug: str) -> None:
        super().__init__(
            401,
            lambda: _("Facilitators only: open the organiser's facilitator link, or log in."),
            SIGN_IN_PAGE,
            slug=slug,
            expired=False,
        )


class FacilitatorLinkExpired(ErrorWithPage):
    def __init__(self, slug: str, logged_in: bool) -> None:
        super().__init__(
            410,
            lambda: _("This facilitator link is no longer valid."),
            SIGN_IN_PAGE,
            slug=slug,
            expired=True,
        )


def facilitator_opt(*, json_only: bool = False) -> dict[str, Any]:
    """The ``opt`` of a facilitator route: pages for forms, JSON for the board's script."""
    return {
        **access(Access.EVENT_FACILITATOR),
        **json_api(JsonApi.ONLY if json_only else JsonApi.NEGOTIATED),
    }


def session_board_link_id(request: Request[Any, Any, Any]) -> UUID | None:
    value = session_of(request).get(BOARD_LINK_KEY)
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def check_facilitator(
    session: Session, slug: str, user_id: UUID | None, link_id: UUID | None
) -> DoorAccess:
    return check_door(
        session,
        slug,
        user_id,
        link_id,
        utcnow(),
        role=Role.FACILITATOR,
        no_access=NoFacilitatorAccess,
        expired=FacilitatorLinkExpired,
    )


def provide_facilitator(
    request: Request[Any, Any, Any], event: FromPath[str], db_session: NamedDependency[Session]
) -> DoorAccess:
    """The ``facilitator`` dependency of every facilitator route."""
    try:
        return check_facilitator(
            db_session, event, session_user_id(request), session_board_link_id(request)
        )
    except FacilitatorLinkExpired:
        session = request.scope.get("session")
        if isinstance(session, dict):
            session.pop(BOARD_LINK_KEY, None)
        raise


FACILITATOR_DEPENDENCIES = {"facilitator": Provide(provide_facilitator, sync_to_thread=True)}
