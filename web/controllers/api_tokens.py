"""An organiser's personal access tokens for the API (``/account/tokens``): make one for a
community with scopes and an optional expiry (shown once), see when each was last used,
revoke. The rules are events/services/api_tokens.py's."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import ValidationFailed
from events.models import Scope, User
from events.services.api_tokens import ApiTokenService
from events.services.communities import CommunityService
from web.auth import Access, access
from web.i18n import gettext as _
from web.messages import field_errors
from web.rendering import flash, page


@dataclass
class TokenForm:
    name: str = ""
    community: str = ""
    expires_on: str = ""
    # One checkbox per scope (form field = the scope with ":" as "_").
    events_read: str = ""
    events_write: str = ""
    attendees_read: str = ""
    attendees_write: str = ""
    checkin: str = ""

    def scopes(self) -> list[str]:
        return [scope.value for scope in Scope if getattr(self, scope.value.replace(":", "_"), "")]


def scope_labels() -> dict[str, str]:
    return {
        Scope.EVENTS_READ.value: _("Read events (drafts included)"),
        Scope.EVENTS_WRITE.value: _("Create, change, publish and cancel events"),
        Scope.ATTENDEES_READ.value: _("Read registrations and their answers"),
        Scope.ATTENDEES_WRITE.value: _("Register, cancel, approve and decline people"),
        Scope.CHECK_IN.value: _("Check people in at the door, and read the check-in log"),
    }


class ApiTokensController(Controller):
    path = "/account/tokens"
    include_in_schema = False

    def _render(
        self,
        request: Request,
        session: Session,
        user: User,
        *,
        issued: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        template = page(
            request,
            "manage/tokens.html",
            status_code=status_code,
            tokens=ApiTokenService(session).of_user(user),
            memberships=CommunityService(session).memberships_of(user),
            scope_labels=scope_labels(),
            issued=issued,
            form=form or {},
            errors=errors or {},
            now=utcnow(),
        )
        return template

    @get("/", opt=access(Access.USER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Template:
        assert current_user is not None
        return self._render(request, db_session, current_user)

    @post("/", opt=access(Access.USER), sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request,
        data: URLEncodedBody[TokenForm],
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Template:
        assert current_user is not None
        try:
            issued = ApiTokenService(db_session).create(
                current_user,
                data.community,
                name=data.name,
                scopes=data.scopes(),
                expires_on=data.expires_on,
                now=utcnow(),
            )
        except ValidationFailed as failed:
            form = {"name": data.name[:80], "community": data.community[:80]}
            form |= {"expires_on": data.expires_on[:10]}
            form |= {scope.replace(":", "_"): "on" for scope in data.scopes()}
            return self._render(
                request,
                db_session,
                current_user,
                form=form,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        return self._render(request, db_session, current_user, issued=issued.plain)

    @post("/{token_id:uuid}/revoke", opt=access(Access.USER), sync_to_thread=True)
    def revoke(
        self,
        request: Request,
        token_id: FromPath[UUID],
        current_user: NamedDependency[User | None],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        assert current_user is not None
        token = ApiTokenService(db_session).revoke(current_user, token_id, now=utcnow())
        flash(request, _("Token “%(name)s” revoked.", name=token.name))
        return Redirect("/account/tokens", status_code=303)
