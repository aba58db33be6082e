"""A community's webhooks (``/manage/{community}/webhooks``): add an endpoint and choose its
events (the signing secret is shown once), the delivery log with each answer's status,
enable a disabled endpoint again, remove one. Rules: events/services/webhooks.py."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import Membership
from events.services.webhooks import WebhookService
from events.webhook_queue import EVENT_TYPES
from web.auth import Access, access, provide_membership
from web.i18n import gettext as _
from web.messages import field_errors
from web.rendering import flash, page
from web.settings import Settings


@dataclass
class EndpointForm:
    url: str = ""
    # One checkbox per event type: field name = the type with "." as "_".
    registration_created: str = ""
    registration_confirmed: str = ""
    registration_waitlisted: str = ""
    registration_promoted: str = ""
    registration_cancelled: str = ""
    checkin_created: str = ""
    event_published: str = ""
    event_changed: str = ""
    event_cancelled: str = ""
    proposal_published: str = ""
    proposal_status_changed: str = ""
    board_topic_posted: str = ""
    board_topic_placed: str = ""

    def event_types(self) -> list[str]:
        return [name for name in EVENT_TYPES if getattr(self, name.replace(".", "_"), "")]


def event_type_labels() -> dict[str, str]:
    return {
        "registration.created": _("Someone registered"),
        "registration.confirmed": _("A registration is confirmed"),
        "registration.waitlisted": _("A registration joined the waiting list"),
        "registration.promoted": _("A registration moved up from the waiting list"),
        "registration.cancelled": _("A registration was cancelled or declined"),
        "checkin.created": _("Someone was checked in at the door"),
        "event.published": _("An event was published"),
        "event.changed": _("A published event changed"),
        "event.cancelled": _("An event was cancelled"),
        "proposal.published": _("A proposal was published in a call"),
        "proposal.status_changed": _(
            "A proposal changed status (discussed, accepted, declined, merged, withdrawn)"
        ),
        "board.topic_posted": _("A topic was posted on an open-space board"),
        "board.topic_placed": _("A board topic was given a room and a time"),
    }


class ManageWebhooksController(Controller):
    path = "/manage/{community:str}/webhooks"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    def _render(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        *,
        secret: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        service = WebhookService(session)
        template = page(
            request,
            "manage/webhooks.html",
            status_code=status_code,
            community=membership.community,
            endpoints=service.endpoints_of(membership.community),
            deliveries=service.deliveries(membership.community),
            labels=event_type_labels(),
            secret=secret,
            form=form or {},
            errors=errors or {},
        )
        return template

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._render(request, db_session, membership)

    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True, status_code=200)
    def add(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[EndpointForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        settings: Settings = request.app.state.settings
        try:
            added = WebhookService(db_session).add(
                membership.community,
                url=data.url,
                event_types=data.event_types(),
                allow_private=settings.webhook_allow_private,
            )
        except ValidationFailed as failed:
            form = {"url": data.url[:500]}
            form |= {name.replace(".", "_"): "on" for name in data.event_types()}
            return self._render(
                request,
                db_session,
                membership,
                form=form,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        return self._render(request, db_session, membership, secret=added.secret)

    @post("/{endpoint_id:uuid}/enable", opt=access(Access.ORGANISER), sync_to_thread=True)
    def enable(
        self,
        request: Request,
        community: FromPath[str],
        endpoint_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        WebhookService(db_session).enable(membership.community, endpoint_id)
        flash(request, _("The endpoint is enabled again."))
        return Redirect(f"/manage/{membership.community.slug}/webhooks", status_code=303)

    @post("/{endpoint_id:uuid}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove(
        self,
        request: Request,
        community: FromPath[str],
        endpoint_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        WebhookService(db_session).remove(membership.community, endpoint_id)
        flash(request, _("The endpoint was removed."))
        return Redirect(f"/manage/{membership.community.slug}/webhooks", status_code=303)
