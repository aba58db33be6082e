"""The organiser's view of the community's e-mail outbox (``/manage/{community}/outbox``).

Every mail the community's events caused, newest first, with its status: waiting to be
sent (or to be retried after an SMTP error), sent, or failed for good. Without SMTP (the
demo) mails stay here, and this page is where organisers read them. A failed mail can be
sent again, one by one or all at once (after an outage). Bodies are shown as text
(escaped), with the tokens of attendees' private links, personal feeds and tickets masked
(events/private_links.py), whether the mail is sent or not: an organiser never holds what
acts for an attendee, and the personal feed would show their registrations elsewhere.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import NotFound
from events.mail.outbox import OutboxService, body_for_organisers
from events.models import Membership, OutboxStatus
from web.auth import Access, access, provide_membership
from web.i18n import gettext as _
from web.i18n import ngettext
from web.rendering import flash, page

MAX_PAGE = 100_000


def status_labels() -> dict[str, str]:
    return {
        OutboxStatus.PENDING.value: _("Waiting"),
        OutboxStatus.SENT.value: _("Sent"),
        OutboxStatus.FAILED.value: _("Failed"),
    }


def kind_labels() -> dict[str, str]:
    return {
        "confirmed": _("Place confirmed"),
        "waitlisted": _("Waiting list"),
        "pending_approval": _("Awaiting approval"),
        "confirm_email": _("Address confirmation"),
        "links": _("Links sent again"),
        "promoted": _("Place from the waiting list"),
        "approved": _("Approved"),
        "declined": _("Declined"),
        "cancelled": _("Cancellation"),
        "ticket": _("New ticket"),
        "event_changed": _("Event changed"),
        "event_cancelled": _("Event cancelled"),
        "reminder": _("Reminder"),
        "feedback": _("Feedback form"),
        "volunteer_signed_up": _("Volunteer shift"),
        "volunteer_cancelled": _("Volunteer shift cancelled"),
        "volunteer_removed": _("Taken off a shift"),
        "volunteer_reminder": _("Shift reminder"),
        "exchange_request": _("Offers & needs request"),
    }


def _status(value: str) -> OutboxStatus | None:
    try:
        return OutboxStatus(value)
    except ValueError:
        return None


def _page_number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def _base(community: str) -> str:
    return f"/manage/{community}/outbox"


def _delivery(request: Request) -> str:
    """How mail leaves this installation: ``smtp`` or ``kept`` (no SMTP server set)."""
    return "smtp" if request.app.state.settings.smtp.configured else "kept"


class ManageOutboxController(Controller):
    path = "/manage/{community:str}/outbox"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def outbox(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        status: FromQuery[str] = "",
        page_number: Annotated[str, QueryParameter(name="page")] = "",
    ) -> Template:
        chosen = _status(status)
        service = OutboxService(db_session)
        result = service.page_of(
            membership.community, status=chosen, page=_page_number(page_number or "1")
        )
        filter_query = urlencode({"status": chosen.value}) + "&" if chosen else ""
        return page(
            request,
            "manage/outbox/list.html",
            fragment="manage/outbox/_list.html",
            community=membership.community,
            result=result,
            counts=service.counts(membership.community),
            status=chosen.value if chosen else "",
            filter_query=filter_query,
            base=_base(membership.community.slug),
            status_labels=status_labels(),
            kind_labels=kind_labels(),
            delivery=_delivery(request),
        )

    @get("/{item_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def message(
        self,
        request: Request,
        community: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        try:
            message = OutboxService(db_session).in_community(membership.community, item_id)
        except NotFound:
            return _gone(request, membership)
        body = body_for_organisers(message)
        return page(
            request,
            "manage/outbox/message.html",
            community=membership.community,
            message=message,
            body=body,
            base=_base(membership.community.slug),
            status_labels=status_labels(),
            kind_labels=kind_labels(),
            delivery=_delivery(request),
        )

    @post("/{item_id:uuid}/send-again", opt=access(Access.ORGANISER), sync_to_thread=True)
    def send_again(
        self,
        request: Request,
        community: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        try:
            queued = OutboxService(db_session).send_again(membership.community, item_id)
        except NotFound:
            return _gone(request, membership)
        if queued:
            flash(request, _("The message is back in line: it will be sent shortly."))
        else:
            flash(request, _("Only a failed message can be sent again."), "warning")
        return Redirect(f"{_base(membership.community.slug)}/{item_id}", status_code=303)

    @post("/send-again", opt=access(Access.ORGANISER), sync_to_thread=True)
    def send_all_again(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        count = OutboxService(db_session).send_all_again(membership.community)
        if count:
            flash(
                request,
                ngettext(
                    "%(num)s failed message is back in line.",
                    "%(num)s failed messages are back in line.",
                    count,
                ),
            )
        else:
            flash(request, _("There is no failed message to send again."), "warning")
        return Redirect(_base(membership.community.slug), status_code=303)


def _gone(request: Request, membership: Membership) -> Redirect:
    # An unknown id, or another community's message: the same answer for both. A redirect
    # to the list rather than a 404, since sent mails are deleted after a while and an
    # organiser following an old link should land somewhere useful.
    flash(request, _("This message is no longer in the outbox."), "warning")
    return Redirect(_base(membership.community.slug), status_code=303)
