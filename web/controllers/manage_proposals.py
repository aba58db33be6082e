"""Organiser pages of calls for proposals (``/manage/{community}/proposals``): open and
edit calls, read proposals, answer them (now or together), merge duplicates, hide or
restore one, turn an accepted one into a session or an event, export the list as CSV."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.export import CsvVariant
from events.models import (
    CallOrder,
    Community,
    Membership,
    Proposal,
    ProposalCall,
    ProposalKind,
    ProposalStatus,
    Supporters,
)
from events.proposal_export import export_filename, proposals_csv
from events.proposal_lifecycle import ANSWERS, ORGANISER_MOVES, status_of
from events.services import moderation, moderation_decisions, proposal_merges, proposal_outcomes
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput
from events.services.proposal_calls import CallInput, CallService, call_path
from events.services.proposal_records import PROPOSAL, people_of, proposal_subject
from events.services.proposals import DECLINE_REASONS, ProposalService
from events.services.series import SeriesService
from web.auth import Access, access, provide_membership
from web.forms import Form, form_list
from web.i18n import gettext as _
from web.i18n import ngettext
from web.messages import (
    error_message,
    field_errors,
    kind_label,
    language_label,
    proposal_status_label,
)
from web.rendering import csv_download, flash, page


class CallForm(Form):
    title: str = ""
    description: str = ""
    opens_local: str = ""
    closes_local: str = ""
    supports_open_local: str = ""
    supports_close_local: str = ""
    supporters: str = Supporters.CONFIRMED_EMAIL.value
    support_budget: str = "5"
    threshold: str = ""
    proposals_per_person: str = "3"
    public_counts: str = ""
    order: str = CallOrder.RANDOM.value
    series: str = ""
    event: str = ""


class AnswerForm(Form):
    status: str = ""
    reason: str = ""
    note: str = ""
    #: "now" publishes the answer at once; anything else keeps it private for now.
    publish: str = ""


class MergeForm(Form):
    into: str = ""
    note: str = ""


class ReasonForm(Form):
    reason: str = ""


class SessionForm(Form):
    event: str = ""
    title: str = ""
    speakers: str = ""
    room: str = ""
    start_time: str = ""
    end_time: str = ""
    description: str = ""


class EventForm(Form):
    occurrence: str = ""
    title: str = ""
    description: str = ""
    starts_local: str = ""
    ends_local: str = ""
    timezone: str = "Europe/Paris"


def _call_input(form: CallForm, kinds: list[str]) -> CallInput:
    return CallInput(**msgspec.structs.asdict(form), kinds=kinds)


class ManageProposalsController(Controller):
    path = "/manage/{community:str}/proposals"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    # -- calls ----------------------------------------------------------------------
    def _call_form(
        self,
        request: Request,
        session: Session,
        community: Community,
        *,
        call: ProposalCall | None = None,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        if values is None:
            if call is not None:
                values = msgspec.structs.asdict(
                    CallForm(
                        **{
                            k: v
                            for k, v in vars(CallService(session).input_of(call)).items()
                            if k not in {"kinds", "public_counts"}
                        },
                        public_counts="on" if call.public_counts else "",
                    )
                )
                values["kinds"] = list(call.kinds)
            else:
                values = {"kinds": [k.value for k in ProposalKind], "public_counts": "on"}
        return page(
            request,
            "manage/proposals/call_form.html",
            status_code=status_code,
            community=community,
            call=call,
            values=values,
            errors=errors or {},
            kinds=list(ProposalKind),
            supporters=list(Supporters),
            orders=list(CallOrder),
            series=SeriesService(session).of_community(community),
            events=EventService(session).upcoming_in(community),
        )

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def calls(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        found = membership.community
        return page(
            request,
            "manage/proposals/calls.html",
            community=found,
            calls=CallService(db_session).of_community(found),
        )

    @get("/new", opt=access(Access.ORGANISER), sync_to_thread=True)
    def new_call(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._call_form(request, db_session, membership.community)

    @post(
        "/",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
        dependencies={"kinds": Provide(form_list("kinds"))},
    )
    def create_call(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[CallForm],
        kinds: NamedDependency[list[str]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            call = CallService(db_session).create(membership.community, _call_input(data, kinds))
        except ValidationFailed as failed:
            return self._call_form(
                request,
                db_session,
                membership.community,
                values={**msgspec.structs.asdict(data), "kinds": kinds},
                errors=field_errors(failed.errors),
                status_code=400,
            )
        flash(request, _("The call is open: share its page."))
        return Redirect(
            f"/manage/{membership.community.slug}/proposals/{call.slug}", status_code=303
        )

    @get("/{call:str}/edit", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit_call(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        found = CallService(db_session).in_community(membership.community, call)
        return self._call_form(request, db_session, membership.community, call=found)

    @post(
        "/{call:str}/edit",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
        dependencies={"kinds": Provide(form_list("kinds"))},
    )
    def update_call(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        data: URLEncodedBody[CallForm],
        kinds: NamedDependency[list[str]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = CallService(db_session)
        found = service.in_community(membership.community, call)
        try:
            service.update(found, _call_input(data, kinds))
        except ValidationFailed as failed:
            return self._call_form(
                request,
                db_session,
                membership.community,
                call=found,
                values={**msgspec.structs.asdict(data), "kinds": kinds},
                errors=field_errors(failed.errors),
                status_code=400,
            )
        flash(request, _("The call is saved."))
        return Redirect(self._call_url(found), status_code=303)

    @staticmethod
    def _call_url(call: ProposalCall) -> str:
        return f"/manage/{call.community.slug}/proposals/{call.slug}"

    # -- a call's proposals -----------------------------------------------------------
    @get("/{call:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def proposals(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        status: FromQuery[str] = "",
    ) -> Template:
        found = CallService(db_session).in_community(membership.community, call)
        service = ProposalService(db_session)
        status = status if status in {s.value for s in ProposalStatus} else ""
        proposals = service.of_call(found, status=status)
        return page(
            request,
            "manage/proposals/proposals.html",
            community=membership.community,
            call=found,
            call_url=call_path(found),
            proposals=proposals,
            status=status,
            statuses=[s for s in ProposalStatus if s is not ProposalStatus.SUBMITTED],
            hidden=service.hidden_ids(found),
            drafts=sum(p.draft_answer is not None for p in proposals),
        )

    @post("/{call:str}/publish-answers", opt=access(Access.ORGANISER), sync_to_thread=True)
    def publish_answers(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = CallService(db_session).in_community(membership.community, call)
        count = ProposalService(db_session, actor_id=membership.user_id).publish_answers(found)
        flash(
            request,
            ngettext("%(num)d answer published.", "%(num)d answers published.", count),
        )
        return Redirect(self._call_url(found), status_code=303)

    @get("/{call:str}/proposals.csv", opt=access(Access.ORGANISER), sync_to_thread=True)
    def export(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        variant: FromQuery[str] = "",
    ) -> Response[bytes]:
        found = CallService(db_session).in_community(membership.community, call)
        chosen = CsvVariant.parse(variant)
        rows = ProposalService(db_session).export_rows(found)
        labels = {
            **{k.value: kind_label(k) for k in ProposalKind},
            **{s.value: proposal_status_label(s) for s in ProposalStatus},
            **{code: language_label(code) for code in ("fr", "en", "fr_en", "other")},
        }
        headers = [
            _("Number"),
            _("Title"),
            _("Kind"),
            _("Status"),
            _("Supports"),
            _("Ready for the organisers"),
            _("Duration (minutes)"),
            _("Language"),
            _("Needs"),
            _("Proposed by"),
            _("Published at"),
            _("Answer"),
            _("Hidden"),
        ]
        body = proposals_csv(
            rows,
            zone=membership.community.timezone,
            headers=headers,
            variant=chosen,
            labels=labels,
            yes_no=(_("yes"), _("no")),
        )
        return csv_download(body, export_filename(found.slug, chosen))

    # -- one proposal -----------------------------------------------------------------
    def _proposal(self, session: Session, community: Community, call: str, number: int) -> Proposal:
        found = CallService(session).in_community(community, call)
        return ProposalService(session).by_number(found, number)

    def _detail(
        self,
        request: Request,
        session: Session,
        community: Community,
        proposal: Proposal,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        service = ProposalService(session)
        case = moderation.case_of(session, PROPOSAL, proposal.id)
        status = status_of(proposal)
        return page(
            request,
            "manage/proposals/proposal.html",
            status_code=status_code,
            community=community,
            call=proposal.call,
            proposal=proposal,
            public_url=f"{call_path(proposal.call)}/{proposal.number}",
            people=people_of(session, proposal),
            trail=service.trail(proposal, everything=True),
            updates=service.updates(proposal),
            answers=[s for s in ProposalStatus if s in ANSWERS],
            allowed=ORGANISER_MOVES.get(status, frozenset()) | ({status} & ANSWERS),
            decline_reasons=DECLINE_REASONS,
            case=case,
            reasons=moderation.reasons_of(session, case) if case else {},
            notes=moderation.notes_of(session, case) if case else [],
            others=[p for p in service.of_call(proposal.call) if p.id != proposal.id],
            events=EventService(session).upcoming_in(community),
            errors=errors or {},
            values=values or {},
        )

    @get("/{call:str}/{number:int}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def proposal(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        found = self._proposal(db_session, membership.community, call, number)
        return self._detail(request, db_session, membership.community, found)

    def _back(self, proposal: Proposal) -> Redirect:
        return Redirect(
            f"/manage/{proposal.call.community.slug}/proposals/{proposal.call.slug}/"
            f"{proposal.number}",
            status_code=303,
        )

    def _refused(
        self,
        request: Request,
        session: Session,
        community: Community,
        proposal: Proposal,
        error: ValidationFailed | Conflict,
        values: dict[str, Any],
    ) -> Template:
        if isinstance(error, ValidationFailed):
            errors, status_code = field_errors(error.errors), 400
        else:
            errors, status_code = {"form": error_message(error.code)}, 409
        return self._detail(
            request,
            session,
            community,
            proposal,
            errors=errors,
            values=values,
            status_code=status_code,
        )

    @post("/{call:str}/{number:int}/answer", opt=access(Access.ORGANISER), sync_to_thread=True)
    def answer(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[AnswerForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = self._proposal(db_session, membership.community, call, number)
        service = ProposalService(db_session, actor_id=membership.user_id)
        now = data.publish == "now"
        try:
            service.answer(found, data.status, data.reason, data.note, publish=now)
        except (ValidationFailed, Conflict) as error:
            values = msgspec.structs.asdict(data)
            return self._refused(request, db_session, membership.community, found, error, values)
        flash(
            request,
            _("The answer is published.")
            if now
            else _("The answer is kept until you publish the answers."),
        )
        return self._back(found)

    @post("/{call:str}/{number:int}/merge", opt=access(Access.ORGANISER), sync_to_thread=True)
    def merge(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[MergeForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = self._proposal(db_session, membership.community, call, number)
        try:
            into_number = int(data.into)
            into = ProposalService(db_session).by_number(found.call, into_number)
            proposal_merges.request(
                db_session, found, into, actor_id=membership.user_id, note=data.note
            )
        except (ValueError, NotFound):
            error = ValidationFailed({"into": "invalid_choice"})
            values = msgspec.structs.asdict(data)
            return self._refused(request, db_session, membership.community, found, error, values)
        except (ValidationFailed, Conflict) as error:
            values = msgspec.structs.asdict(data)
            return self._refused(request, db_session, membership.community, found, error, values)
        flash(request, _("Both proposers are asked by e-mail whether they agree."))
        return self._back(found)

    @post("/{call:str}/{number:int}/hide", opt=access(Access.ORGANISER), sync_to_thread=True)
    def hide(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[ReasonForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = self._proposal(db_session, membership.community, call, number)
        try:
            case = moderation.hide(
                db_session, proposal_subject(found), reason=data.reason, actor_id=membership.user_id
            )
        except ValidationFailed as error:
            values = {"hide_reason": data.reason}
            return self._refused(request, db_session, membership.community, found, error, values)
        moderation_decisions.TELLERS[PROPOSAL](db_session, case, "hidden", membership.user_id)
        flash(request, _("The proposal is hidden; its proposer is told why."))
        return self._back(found)

    # -- what it becomes --------------------------------------------------------------
    @get("/{call:str}/{number:int}/session", opt=access(Access.ORGANISER), sync_to_thread=True)
    def session_form(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        found = self._proposal(db_session, membership.community, call, number)
        prefilled = vars(proposal_outcomes.session_input(db_session, found))
        return self._become_form(
            request, db_session, membership.community, found, "session", prefilled
        )

    def _become_form(
        self,
        request: Request,
        session: Session,
        community: Community,
        proposal: Proposal,
        what: str,
        values: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        occurrences = [
            event
            for series in SeriesService(session).of_community(community)
            for event in SeriesService(session).occurrences(series)
        ]
        return page(
            request,
            "manage/proposals/become.html",
            status_code=status_code,
            community=community,
            call=proposal.call,
            proposal=proposal,
            what=what,
            values=values,
            errors=errors or {},
            events=EventService(session).upcoming_in(community),
            occurrences=occurrences,
        )

    @post("/{call:str}/{number:int}/session", opt=access(Access.ORGANISER), sync_to_thread=True)
    def become_session(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[SessionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = self._proposal(db_session, membership.community, call, number)
        values = msgspec.structs.asdict(data)
        try:
            event = EventService(db_session).in_community(membership.community, data.event)
        except NotFound:
            return self._become_form(
                request,
                db_session,
                membership.community,
                found,
                "session",
                values,
                errors={"event": error_message("invalid_choice")},
                status_code=400,
            )
        fields = {k: v for k, v in values.items() if k != "event"}
        try:
            proposal_outcomes.as_session(
                db_session, found, event, ProgrammeInput(**fields), actor_id=membership.user_id
            )
        except (ValidationFailed, Conflict) as error:
            errors = (
                field_errors(error.errors)
                if isinstance(error, ValidationFailed)
                else {"form": error_message(error.code)}
            )
            return self._become_form(
                request, db_session, membership.community, found, "session", values,
                errors=errors, status_code=400,
            )  # fmt: skip
        flash(request, _("The proposal is now a session of “%(event)s”.", event=event.title))
        return self._back(found)

    @get("/{call:str}/{number:int}/event", opt=access(Access.ORGANISER), sync_to_thread=True)
    def event_form(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        occurrence: FromQuery[str] = "",
    ) -> Template:
        found = self._proposal(db_session, membership.community, call, number)
        chosen = None
        if occurrence:
            chosen = EventService(db_session).in_community(membership.community, occurrence[:120])
        values = {**vars(proposal_outcomes.event_input(found, chosen)), "occurrence": occurrence}
        if not values.get("timezone"):
            values["timezone"] = membership.community.timezone
        return self._become_form(request, db_session, membership.community, found, "event", values)

    @post("/{call:str}/{number:int}/event", opt=access(Access.ORGANISER), sync_to_thread=True)
    def become_event(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[EventForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        found = self._proposal(db_session, membership.community, call, number)
        values = msgspec.structs.asdict(data)
        occurrence = None
        if data.occurrence:
            occurrence = EventService(db_session).in_community(
                membership.community, data.occurrence[:120]
            )
            data_input = proposal_outcomes.event_input(found, occurrence)
            data_input.title, data_input.description = data.title, data.description
        else:
            data_input = EventInput(
                title=data.title,
                description=data.description,
                starts_local=data.starts_local,
                ends_local=data.ends_local,
                timezone=data.timezone,
            )
        try:
            event = proposal_outcomes.as_event(
                db_session, found, data_input, occurrence=occurrence, actor_id=membership.user_id
            )
        except (ValidationFailed, Conflict) as error:
            errors = (
                field_errors(error.errors)
                if isinstance(error, ValidationFailed)
                else {"form": error_message(error.code)}
            )
            return self._become_form(
                request, db_session, membership.community, found, "event", values,
                errors=errors, status_code=400,
            )  # fmt: skip
        flash(request, _("Done: “%(event)s” comes from this proposal.", event=event.title))
        return Redirect(f"/manage/{membership.community.slug}/events/{event.slug}", status_code=303)


class ManageModerationController(Controller):
    path = "/manage/{community:str}/moderation"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def queue(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        found = membership.community
        cases = moderation.queue(db_session, found)
        return page(
            request,
            "manage/proposals/moderation.html",
            community=found,
            cases=[
                {
                    "case": case,
                    "reasons": moderation.reasons_of(db_session, case),
                    "notes": moderation.notes_of(db_session, case),
                }
                for case in cases
            ],
            decided=moderation.decided(db_session, found),
        )

    @post("/{case_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def decide(
        self,
        request: Request,
        community: FromPath[str],
        case_id: FromPath[UUID],
        data: URLEncodedBody[AnswerForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        hide = data.status == "hide"
        try:
            moderation_decisions.decide(
                db_session,
                membership.community,
                case_id,
                hide=hide,
                reason=data.reason,
                actor_id=membership.user_id,
            )
        except ValidationFailed:
            flash(request, _("Say why: the proposer is told."), "error")
            return Redirect(f"/manage/{membership.community.slug}/moderation", status_code=303)
        flash(
            request,
            _("Hidden; its author is told why.") if hide else _("Shown again; its author is told."),
        )
        return Redirect(f"/manage/{membership.community.slug}/moderation", status_code=303)
