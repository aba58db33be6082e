"""The organiser area: communities, members, roles and invitations (``/manage``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import Membership, Role, User
from events.services.communities import CommunityService
from events.services.events import EventService
from web.auth import Access, access, provide_membership
from web.forms import CommunityForm, InvitationForm, RoleForm
from web.i18n import gettext as _
from web.messages import field_errors
from web.rendering import flash, page
from web.settings import Settings


def _community_context(session: Session, membership: Membership) -> dict[str, Any]:
    service = CommunityService(session)
    community = membership.community
    owner = membership.role is Role.OWNER
    return {
        "community": community,
        "membership": membership,
        "members": service.members(community) if membership.role.at_least(Role.ORGANISER) else [],
        "invitations": service.pending_invitations(community) if owner else [],
        "roles": list(Role),
        # Facilitators see the events too: each one's open-space board is theirs to run.
        "upcoming": EventService(session).upcoming_in(community, limit=20)
        if membership.role.at_least(Role.ORGANISER) or membership.role is Role.FACILITATOR
        else [],
    }


class ManageController(Controller):
    path = "/manage"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    @get("/", opt=access(Access.USER), sync_to_thread=True)
    def dashboard(
        self,
        request: Request,
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Template:
        assert current_user is not None
        memberships = CommunityService(db_session).memberships_of(current_user)
        return page(request, "manage/dashboard.html", memberships=memberships, form={}, errors={})

    @post("/communities", opt=access(Access.USER), sync_to_thread=True)
    def create_community(
        self,
        request: Request,
        data: URLEncodedBody[CommunityForm],
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        assert current_user is not None
        service = CommunityService(db_session)
        try:
            community = service.create(current_user, name=data.name, description=data.description)
        except ValidationFailed as failed:
            return page(
                request,
                "manage/dashboard.html",
                status_code=400,
                memberships=service.memberships_of(current_user),
                form={"name": data.name[:200], "description": data.description[:5000]},
                errors=field_errors(failed.errors),
            )
        flash(request, _("Community “%(name)s” created.", name=community.name))
        return Redirect(f"/manage/{community.slug}", status_code=303)

    @get("/{community:str}", opt=access(Access.MEMBER), sync_to_thread=True)
    def community(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return page(
            request,
            "manage/community.html",
            form={},
            errors={},
            issued=None,
            **_community_context(db_session, membership),
        )

    @post("/{community:str}/invitations", opt=access(Access.OWNER), sync_to_thread=True)
    def invite(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[InvitationForm],
        membership: NamedDependency[Membership],
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Template:
        assert current_user is not None
        settings: Settings = request.app.state.settings
        service = CommunityService(db_session)
        try:
            issued = service.invite(
                membership.community, current_user, email=data.email, role=data.role
            )
        except ValidationFailed as failed:
            return page(
                request,
                "manage/community.html",
                status_code=400,
                fragment="manage/_invite.html",
                form={"email": data.email[:320], "role": data.role},
                errors=field_errors(failed.errors),
                issued=None,
                **_community_context(db_session, membership),
            )
        # Until the outbox sends it, the owner copies the link (shown once, never stored).
        link = settings.absolute_url(f"/invite/{issued.token}")
        return page(
            request,
            "manage/community.html",
            fragment="manage/_invite.html",
            form={},
            errors={},
            issued={"email": issued.invitation.email, "link": link},
            **_community_context(db_session, membership),
        )

    @post(
        "/{community:str}/invitations/{invitation_id:uuid}/revoke",
        opt=access(Access.OWNER),
        sync_to_thread=True,
    )
    def revoke_invitation(
        self,
        request: Request,
        community: FromPath[str],
        invitation_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        CommunityService(db_session).revoke_invitation(membership.community, invitation_id)
        flash(request, _("Invitation revoked."))
        return Redirect(f"/manage/{community}", status_code=303)

    @post(
        "/{community:str}/members/{membership_id:uuid}/role",
        opt=access(Access.OWNER),
        sync_to_thread=True,
    )
    def change_role(
        self,
        request: Request,
        community: FromPath[str],
        membership_id: FromPath[UUID],
        data: URLEncodedBody[RoleForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        CommunityService(db_session).change_role(membership.community, membership_id, data.role)
        flash(request, _("Role updated."))
        return Redirect(f"/manage/{community}", status_code=303)

    @post(
        "/{community:str}/members/{membership_id:uuid}/remove",
        opt=access(Access.OWNER),
        sync_to_thread=True,
    )
    def remove_member(
        self,
        request: Request,
        community: FromPath[str],
        membership_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        CommunityService(db_session).remove_member(membership.community, membership_id)
        flash(request, _("Member removed."))
        return Redirect(f"/manage/{community}", status_code=303)
