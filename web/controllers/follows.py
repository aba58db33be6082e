"""A follower's page and one-click unsubscribe (``/u/{token}``), for every followed kind.

Every mail to a follower carries its follow's signed link (events/services/follows.py):

- ``GET /u/{token}``: the follower's page: what this follow is, every other follow of the
  same address in the community, buttons to stop this one or all of them;
- ``POST /u/{token}/one-click``: RFC 8058. A mail client POSTs
  ``List-Unsubscribe=One-Click`` there without cookies, so the route takes no CSRF token
  and no session (web/app.py exempts it) and answers 200 with a short text. The link
  itself is the proof: only the follower received it. A GET on it (a person who
  pasted it in a browser) shows the follower's page rather than acting.
"""

from __future__ import annotations

import contextlib
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import NotFound
from events.models import Community, Follow
from events.services import follows
from events.services.confirmations import subject_of
from web.auth import ONE_CLICK_OPT, Access, access
from web.i18n import gettext as _
from web.rendering import PRIVATE_HEADERS, flash, page, private


def _page(request: Request, session: Session, follow: Follow, token: str) -> Template:
    community = session.get(Community, follow.community_id)
    if community is None:
        raise NotFound()
    rows = []
    for row in follows.follows_of(session, community.id, follow.email):
        try:
            subject = subject_of(session, row.subject_kind, row.subject_id)
        except NotFound:
            continue
        rows.append({"follow": row, "subject": subject})
    return private(
        page(
            request,
            "follows/follower.html",
            community=community,
            follow=follow,
            rows=rows,
            token=token,
        )
    )


@get("/u/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True, include_in_schema=False)
def follower_page(
    request: Request, token: FromPath[str], db_session: NamedDependency[Session]
) -> Template:
    return _page(request, db_session, follows.by_unsubscribe_token(db_session, token), token)


@get(
    "/u/{token:str}/one-click",
    opt=access(Access.TOKEN),
    sync_to_thread=False,
    include_in_schema=False,
)
def one_click_page(token: FromPath[str]) -> Redirect:
    """Opened in a browser: the page, where stopping is one button (a GET never acts)."""
    return Redirect(f"/u/{token}", status_code=303, headers=PRIVATE_HEADERS)


@post(
    "/u/{token:str}/one-click",
    opt=ONE_CLICK_OPT,
    sync_to_thread=True,
    status_code=200,
    include_in_schema=False,
)
def one_click(token: FromPath[str], db_session: NamedDependency[Session]) -> Response[str]:
    """RFC 8058 one-click unsubscribe: stop this follow. Already stopped: the same
    answer (the mail client may retry)."""
    with contextlib.suppress(NotFound):
        follows.stop(db_session, follows.by_unsubscribe_token(db_session, token))
    return Response(
        _("You will not receive these e-mails any more."),
        media_type="text/plain",
        headers=PRIVATE_HEADERS,
    )


@post("/u/{token:str}/stop", opt=access(Access.TOKEN), sync_to_thread=True, include_in_schema=False)
def stop_one(
    request: Request, token: FromPath[str], db_session: NamedDependency[Session]
) -> Response[Any]:
    follow = follows.by_unsubscribe_token(db_session, token)
    follows.stop(db_session, follow)
    flash(request, _("You will not receive these e-mails any more."))
    with contextlib.suppress(NotFound):  # back to what they followed, if it is still there
        subject = subject_of(db_session, follow.subject_kind, follow.subject_id)
        return Redirect(subject.path, status_code=303)
    community = db_session.get(Community, follow.community_id)
    return Redirect(f"/g/{community.slug}/proposals" if community else "/", status_code=303)


@post(
    "/u/{token:str}/stop-all",
    opt=access(Access.TOKEN),
    sync_to_thread=True,
    include_in_schema=False,
)
def stop_all(
    request: Request, token: FromPath[str], db_session: NamedDependency[Session]
) -> Response[Any]:
    follow = follows.by_unsubscribe_token(db_session, token)
    follows.stop_all(db_session, follow.community_id, follow.email)
    flash(request, _("You follow nothing any more in this community."))
    community = db_session.get(Community, follow.community_id)
    return Redirect(f"/g/{community.slug}/proposals" if community else "/", status_code=303)


ROUTE_HANDLERS = [follower_page, one_click_page, one_click, stop_one, stop_all]
