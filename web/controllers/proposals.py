"""One proposal of a call, in public (docs/proposals.md): its page, its status trail and
what people do with it: support (and take back), follow (it or its whole call), report,
ask to co-propose; and, from a registrant's private page, taking part with the ticket.
The calls and proposing: web/controllers/proposal_calls.py; what both share:
web/proposal_pages.py. Every form works without JavaScript; with it, htmx swaps the
support box in place.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import (
    Community,
    Event,
    ProgrammeItem,
    Proposal,
    ProposalCall,
)
from events.services import follows, identity
from events.services.co_proposers import CoProposerService
from events.services.identity import Person
from events.services.moderation import REASONS
from events.services.proposal_calls import call_path
from events.services.proposal_records import (
    call_subject,
    proposal_path,
    proposal_subject,
)
from events.services.proposals import (
    DECLINE_REASONS,
    ProposalService,
)
from events.services.registrations import RegistrationService
from events.services.supports import SupportService
from web.auth import Access, access
from web.forms import safe_next
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.proposal_pages import (
    PersonForm,
    acting,
    call_context,
    call_of,
    client_of,
    proposal_of,
    sent,
)
from web.rendering import flash, mark_for_rollback, page, wants_fragment
from web.visitors import (
    recognised,
    remember,
)
from web.write_batch import WriteBatcher


class ReportForm(PersonForm):
    reason: str = ""
    note: str = ""


class JoinForm(PersonForm):
    name: str = ""
    message: str = ""
    named: str = ""


def _back_after_support(back: str, proposal_page: str, call_page: str) -> str:
    """Back to the call page (with its filters) when the support was given from its list,
    else to the proposal's page."""
    target = safe_next(back, proposal_page)
    return target if target.startswith(call_page) else proposal_page


def _became_link(event: Event, item: ProgrammeItem | None) -> dict[str, str]:
    """What a proposal's "became ..." line links to."""
    if item is not None:
        label = _("“%(session)s” in %(event)s", session=item.title, event=event.title)
    else:
        label = event.title
    return {"url": f"/e/{event.slug}", "label": label}


class ProposalsController(Controller):
    path = "/g/{group:str}/proposals"
    include_in_schema = False

    # -- one proposal -------------------------------------------------------------------
    def _proposal_page(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        *,
        form: str = "",
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        community = session.get(Community, proposal.community_id)
        assert community is not None
        person = recognised(request, session, community.id)
        service = ProposalService(session)
        became = service.became(proposal)
        return page(
            request,
            "proposals/proposal.html",
            status_code=status_code,
            proposal=proposal,
            became=_became_link(*became) if became else None,
            merged_into=service.merged_into(proposal),
            names=service.named_people(proposal),
            trail=service.trail(proposal),
            updates=service.updates(proposal),
            proposal_url=proposal_path(proposal),
            following=person is not None
            and follows.is_following(session, proposal_subject(proposal), person),
            decline_reasons=DECLINE_REASONS,
            report_reasons=REASONS,
            open_form=form,
            values=values or {},
            errors=errors or {},
            **call_context(session, community, proposal.call, person),
        )

    @get("/{call:str}/{number:int}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def proposal(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._proposal_page(
            request, db_session, proposal_of(db_session, group, call, number)
        )

    def _refused(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        form: str,
        values: dict[str, Any],
        error: ValidationFailed | Conflict | RateLimited,
    ) -> Response[Any]:
        """The proposal page again with what was wrong next to the form (nothing kept)."""
        if isinstance(error, RateLimited) and not wants_fragment(request):
            raise TooManyRequestsException(headers={"Retry-After": "600"})
        if isinstance(error, ValidationFailed):
            errors, status_code = field_errors(error.errors), 400
        else:
            errors, status_code = {"form": error_message(error.code)}, 409
        mark_for_rollback(request)
        if wants_fragment(request) and form == "support":
            return self._support_box(request, session, proposal, errors=errors, status_code=200)
        return self._proposal_page(
            request,
            session,
            proposal,
            form=form,
            values=values,
            errors=errors,
            status_code=status_code,
        )

    def _support_box(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        *,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        community = session.get(Community, proposal.community_id)
        assert community is not None
        person = recognised(request, session, community.id)
        return page(
            request,
            "proposals/_support.html",
            status_code=status_code,
            proposal=proposal,
            errors=errors or {},
            notice=notice,
            asking=person is None,
            **call_context(session, community, proposal.call, person),
        )

    @post("/{call:str}/{number:int}/support", opt=access(Access.PUBLIC))
    async def support(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
    ) -> Response[Any]:
        """A hot write when a call is announced (a room of ticket holders supporting at
        once). Finding the proposal and the person is read first, outside the write; the
        support itself (its rules checked again on the row) goes through the group commit
        (web/write_batch.py); the page is rendered after, outside the write too."""
        db: Database = request.app.state.db
        locale, client = current_locale.get(), client_of(request)  # the unit runs elsewhere

        def find() -> tuple[UUID, Person | None, str, str]:
            with db.session() as session:
                proposal = proposal_of(session, group, call, number)
                person = acting(request, session, proposal.call.community, data.ticket)
                return proposal.id, person, proposal_path(proposal), call_path(proposal.call)

        def unit(session: Session) -> str:
            proposal = session.get(Proposal, proposal_id)
            if proposal is None:  # deleted since it was read
                raise NotFound()
            if person is None and not (data.email or data.website):
                return "ask"
            if person is None:
                SupportService(session).ask_by_mail(
                    proposal,
                    proposal.call.community,
                    data.email,
                    locale=locale,
                    client=client,
                    trap=data.website,
                )
                return "sent"
            SupportService(session).support(proposal, person, client=client)
            return "supported"

        try:
            proposal_id, person, path, list_path = await anyio.to_thread.run_sync(find)
            batcher: WriteBatcher = request.app.state.write_batcher
            done = await batcher.run(unit, lock_order=f"proposal:{proposal_id}")
            refused = None
        except (ValidationFailed, Conflict, RateLimited) as error:  # nothing of it was kept
            done, refused = "", error
        notice = _("Your support is counted.")
        if done == "supported" and not wants_fragment(request):
            flash(request, notice)
            return Redirect(_back_after_support(data.back, path, list_path), status_code=303)

        def answer() -> Response[Any]:
            with db.session() as session:
                proposal = proposal_of(session, group, call, number)
                if refused is not None:
                    values = msgspec.structs.asdict(data)
                    return self._refused(request, session, proposal, "support", values, refused)
                if done == "ask":
                    return self._ask_who(request, session, proposal, "support")
                if done == "sent":
                    return sent(request, proposal.call, "support")
                return self._after_support(request, session, proposal, notice, data.back)

        return await anyio.to_thread.run_sync(answer)

    @post("/{call:str}/{number:int}/unsupport", opt=access(Access.PUBLIC), sync_to_thread=True)
    def unsupport(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = proposal_of(db_session, group, call, number)
        person = recognised(request, db_session, proposal.community_id)
        if person is None:
            return self._ask_who(request, db_session, proposal, "support")
        try:
            SupportService(db_session).withdraw(proposal, person)
        except Conflict as error:
            return self._refused(request, db_session, proposal, "support", {}, error)
        return self._after_support(
            request, db_session, proposal, _("Your support is taken back."), data.back
        )

    def _after_support(
        self, request: Request, session: Session, proposal: Proposal, notice: str, back: str
    ) -> Response[Any]:
        if wants_fragment(request):
            return self._support_box(request, session, proposal, notice=notice)
        flash(request, notice)
        target = _back_after_support(back, proposal_path(proposal), call_path(proposal.call))
        return Redirect(target, status_code=303)

    def _ask_who(
        self, request: Request, session: Session, proposal: Proposal, action: str
    ) -> Response[Any]:
        """The visitor is not recognised: ask for a ticket or an address."""
        if wants_fragment(request) and action == "support":
            return self._support_box(request, session, proposal)
        return self._proposal_page(request, session, proposal, form=action)

    @post("/{call:str}/{number:int}/follow", opt=access(Access.PUBLIC), sync_to_thread=True)
    def follow(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = proposal_of(db_session, group, call, number)
        subject = proposal_subject(proposal)
        return self._follow(request, db_session, proposal, subject, data)

    def _follow(
        self,
        request: Request,
        session: Session,
        proposal: Proposal | None,
        subject: follows.Subject,
        data: PersonForm,
        *,
        call: ProposalCall | None = None,
    ) -> Response[Any]:
        call = call or (proposal.call if proposal else None)
        assert call is not None
        values = msgspec.structs.asdict(data)
        try:
            person = acting(request, session, call.community, data.ticket)
            if person is None and not (data.email or data.website):
                if proposal is None:
                    raise ValidationFailed({"email": "required"})
                return self._ask_who(request, session, proposal, "follow")
            if person is None:
                follows.ask_to_follow(
                    session,
                    call.community,
                    subject,
                    data.email,
                    locale=current_locale.get(),
                    client=client_of(request),
                    trap=data.website,
                )
                return sent(request, call, "follow")
            follows.follow(session, subject, person, locale=current_locale.get())
        except (ValidationFailed, Conflict, RateLimited) as error:
            if proposal is None:
                raise
            return self._refused(request, session, proposal, "follow", values, error)
        flash(request, _("You follow it: we will e-mail you when it changes."))
        return Redirect(subject.path, status_code=303)

    @post("/{call:str}/follow", opt=access(Access.PUBLIC), sync_to_thread=True)
    def follow_call(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        _community, found = call_of(db_session, group, call)
        return self._follow(request, db_session, None, call_subject(found), data, call=found)

    @post("/{call:str}/{number:int}/report", opt=access(Access.PUBLIC), sync_to_thread=True)
    def report(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[ReportForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = proposal_of(db_session, group, call, number)
        service = ProposalService(db_session)
        values = msgspec.structs.asdict(data)
        try:
            person = acting(request, db_session, proposal.call.community, data.ticket)
            if person is None:
                service.report_by_mail(
                    proposal,
                    data.email,
                    data.reason,
                    data.note,
                    locale=current_locale.get(),
                    client=client_of(request),
                    trap=data.website,
                )
                return sent(request, proposal.call, "report")
            service.report(proposal, person, data.reason, data.note, client=client_of(request))
        except (ValidationFailed, Conflict, RateLimited) as error:
            return self._refused(request, db_session, proposal, "report", values, error)
        flash(request, _("Thank you: the organisers will look at your report."))
        return Redirect(call_path(proposal.call), status_code=303)

    @post("/{call:str}/{number:int}/join", opt=access(Access.PUBLIC), sync_to_thread=True)
    def join(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[JoinForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = proposal_of(db_session, group, call, number)
        service = CoProposerService(db_session)
        values = msgspec.structs.asdict(data)
        try:
            person = acting(request, db_session, proposal.call.community, data.ticket)
            if data.website.strip():
                return sent(request, proposal.call, "join")  # the honeypot: nothing done
            if person is None:
                service.ask_by_mail(
                    proposal,
                    proposal.call.community,
                    data.email,
                    name=data.name,
                    message=data.message,
                    named=data.named,
                    locale=current_locale.get(),
                    client=client_of(request),
                )
                return sent(request, proposal.call, "join")
            service.ask(
                proposal,
                person,
                name=data.name,
                message=data.message,
                named=data.named,
                locale=current_locale.get(),
                client=client_of(request),
            )
        except (ValidationFailed, Conflict, RateLimited) as error:
            return self._refused(request, db_session, proposal, "join", values, error)
        flash(request, _("Your request is sent to the proposer, who will answer by e-mail."))
        return Redirect(proposal_path(proposal), status_code=303)


@post(
    "/r/{token:str}/proposals",
    opt=access(Access.TOKEN),
    sync_to_thread=True,
    include_in_schema=False,
)
def take_part_with_ticket(
    request: Request, token: FromPath[str], db_session: NamedDependency[Session]
) -> Response[Any]:
    """From a registrant's private page: this browser is the ticket holder for the calls
    of the event's community (no new mail), then its calls."""
    registration = RegistrationService(db_session).by_manage_token(token)
    try:
        person = identity.person_of_registration(db_session, registration)
    except NotFound:
        flash(request, error_message("no_ticket"), "error")
        return Redirect(f"/r/{token}", status_code=303)
    remember(request, person)
    community = db_session.get(Community, person.community_id)
    assert community is not None
    return Redirect(f"/g/{community.slug}/proposals", status_code=303)
