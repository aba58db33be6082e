"""Who is at the door of one event.

A logged-in member of the event's community with the door role or above, or a volunteer
holding a door link (``/door/{event}/link/{token}`` stores the link's id in the session).
The app-wide guard cannot check this (it needs ``{community}`` in the path), so every door
route is declared ``Access.EVENT_DOOR`` and takes the ``door`` dependency
(:func:`provide_door`), which re-checks the link (revoked, expired, other event) on every
request:

- a link of another event, or a logged-in account with no door role in the event's
  community: 404, this event's door does not exist for them;
- a revoked or expired link: 410, and the session forgets it;
- a door shift's link before its window (events/services/door_links.py): 403, saying from
  when it works; the session keeps it;
- not logged in and no link: 401; for browsers a sign-in page (log in, or open the
  organiser's door link). Nothing about the event's registrants is in any of these answers.

The scan is the exception: it runs in a batch of scans (web/write_batch.py) and checks
access there, once per batch and caller, with :func:`check_door`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound
from events.models import DoorLink, Event, Role
from events.services.communities import CommunityService
from events.services.door_links import DoorLinkService, LinkState, link_state
from events.services.events import WITHOUT_COLLECTIONS, EventService
from web.auth import Access, access, session_user_id
from web.errors import ErrorWithPage, JsonApi, json_api
from web.i18n import format_datetime, format_time
from web.i18n import gettext as _
from web.rendering import session_of

#: Session key of the door link this browser opened (its id, never the token).
DOOR_LINK_KEY = "door_link"
SIGN_IN_PAGE = "door/signin.html"


class NoDoorAccess(ErrorWithPage):
    """Neither a door membership nor a door link: 401, the sign-in page for browsers."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            401,
            lambda: _("Door access needed: open the organiser's door link, or log in."),
            SIGN_IN_PAGE,
            slug=slug,
            logged_in=False,
            expired=False,
        )


class DoorLinkExpired(ErrorWithPage):
    """The door link was revoked, has expired, or is unknown: 410."""

    def __init__(self, slug: str, *, logged_in: bool) -> None:
        super().__init__(
            410,
            lambda: _("This door link is no longer valid."),
            SIGN_IN_PAGE,
            slug=slug,
            logged_in=logged_in,
            expired=True,
        )


class DoorLinkNotYet(ErrorWithPage):
    """A door shift's link before its window opens: 403, saying when it works. The session
    keeps the link: it works by itself once the window opens."""

    def __init__(self, slug: str, link: DoorLink, zone: str, *, logged_in: bool) -> None:
        super().__init__(
            403,
            lambda: _(
                "This door link works from %(start)s until %(end)s.",
                start=format_datetime(link.valid_from or link.expires_at, zone, "short"),
                end=format_time(link.expires_at, zone),
            ),
            SIGN_IN_PAGE,
            slug=slug,
            logged_in=logged_in,
            expired=False,
            opens_at=link.valid_from,
            closes_at=link.expires_at,
            zone=zone,
        )


@dataclass(frozen=True)
class DoorAccess:
    event: Event
    actor_id: UUID | None
    door_link_id: UUID | None


def door_opt(*, json_only: bool = False) -> dict[str, Any]:
    """The ``opt`` of a door route: door access; JSON for the scanner's script (and only
    JSON with ``json_only``), pages for plain forms."""
    return {
        **access(Access.EVENT_DOOR),
        **json_api(JsonApi.ONLY if json_only else JsonApi.NEGOTIATED),
    }


def session_link_id(request: Request[Any, Any, Any]) -> UUID | None:
    value = session_of(request).get(DOOR_LINK_KEY)
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def forget_link(request: Request[Any, Any, Any]) -> None:
    session = request.scope.get("session")
    if isinstance(session, dict) and DOOR_LINK_KEY in session:
        session.pop(DOOR_LINK_KEY)


@contextmanager
def forgetting_expired_link(request: Request[Any, Any, Any]) -> Iterator[None]:
    """A link found revoked or expired is forgotten by the session that held it."""
    try:
        yield
    except DoorLinkExpired:
        forget_link(request)
        raise


def check_door(
    session: Session,
    slug: str,
    user_id: UUID | None,
    link_id: UUID | None,
    now: datetime,
    *,
    role: Role = Role.DOOR,
    no_access: Callable[[str], Exception] = NoDoorAccess,
    expired: Callable[[str, bool], Exception] = lambda slug, logged_in: DoorLinkExpired(
        slug, logged_in=logged_in
    ),
) -> DoorAccess:
    """The caller's door access to event ``slug`` (raises NotFound, NoDoorAccess,
    DoorLinkNotYet or DoorLinkExpired). A member's role wins over a link held in the same
    session.

    ``role`` asks for another of the event's roles held by a member or a link (the
    open-space board's facilitator, web/board/access.py), with its own errors."""
    # The door never shows the event's tags or cover: two queries fewer per batch of scans.
    event = EventService(session).by_slug(slug, public=False, options=WITHOUT_COLLECTIONS)
    if user_id is not None:
        membership = CommunityService(session).membership(user_id, event.community.slug)
        if membership is not None and membership.role.at_least(role):
            return DoorAccess(event=event, actor_id=user_id, door_link_id=None)
    if link_id is None:
        if user_id is not None:  # an account with no role there: as for an unknown event
            raise NotFound()
        raise no_access(slug)
    # A link of another event raises NotFound: for its holder, this event does not exist.
    link = DoorLinkService(session).in_event(event, link_id)
    if link.role is not role:
        raise NotFound()
    state = link_state(link, now)  # a door shift's link works in its window only
    if state is LinkState.NOT_YET:
        raise DoorLinkNotYet(slug, link, event.timezone, logged_in=user_id is not None)
    if state is not LinkState.LIVE:
        raise expired(slug, user_id is not None)
    return DoorAccess(event=event, actor_id=None, door_link_id=link.id)


def provide_door(
    request: Request[Any, Any, Any], event: FromPath[str], db_session: NamedDependency[Session]
) -> DoorAccess:
    """The ``door`` dependency of every door route but the scan."""
    with forgetting_expired_link(request):
        return check_door(
            db_session, event, session_user_id(request), session_link_id(request), utcnow()
        )


#: The ``dependencies`` of a door controller.
DOOR_DEPENDENCIES = {"door": Provide(provide_door, sync_to_thread=True)}
