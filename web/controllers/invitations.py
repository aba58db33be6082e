"""Accepting an invitation to a community (``/invite/{token}``)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.models import User
from events.services.communities import CommunityService
from web.auth import Access, access
from web.i18n import gettext as _
from web.rendering import flash, page


class InvitationController(Controller):
    path = "/invite"
    include_in_schema = False

    @get("/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def show(
        self,
        request: Request,
        token: FromPath[str],
        db_session: NamedDependency[Session],
        current_user: NamedDependency[User | None],
    ) -> Template:
        invitation = CommunityService(db_session).invitation_for_token(token)
        response = page(
            request,
            "invitations/accept.html",
            invitation=invitation,
            token=token,
            user=current_user,
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @post("/{token:str}", opt=access(Access.USER), sync_to_thread=True)
    def accept(
        self,
        request: Request,
        token: FromPath[str],
        db_session: NamedDependency[Session],
        current_user: NamedDependency[User | None],
    ) -> Redirect:
        assert current_user is not None
        membership = CommunityService(db_session).accept_invitation(token, current_user)
        flash(request, _("You joined “%(name)s”.", name=membership.community.name))
        return Redirect(f"/manage/{membership.community.slug}", status_code=303)
