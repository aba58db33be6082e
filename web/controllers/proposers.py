"""The private page of a proposer or co-proposer (``/p/{token}``), like ``/r/{token}``:
reached through the links mailed to them (a signed link: events/services/identity.py),
never cached, never indexed, no ``Referer``.

The proposer edits their proposal until it is answered, withdraws it, posts updates,
sees its supports, answers requests to join, agrees to or refuses a merge, and sees and
stops the follows of their address. A co-proposer answers the invitation, chooses whether
to be named, or leaves. Both download or delete their data.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import Community, PersonRole, PersonState, Proposal, ProposalKind
from events.proposal_lifecycle import editable, withdrawable
from events.proposal_lifecycle import require_updatable as _require_updatable
from events.services import follows, identity, proposal_merges, proposal_privacy
from events.services.co_proposers import CoProposerService
from events.services.proposal_records import people_of, person_by_private_token, proposal_path
from events.services.proposals import LANGUAGES, NEEDS, ProposalInput, ProposalService
from web import throttle
from web.auth import Access, access
from web.forms import Form, form_list
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.rendering import PRIVATE_HEADERS, flash, page, private
from web.visitors import remember


class EditForm(Form):
    title: str = ""
    kind: str = ""
    body: str = ""
    duration: str = ""
    language: str = ""
    needs_note: str = ""

    def __post_init__(self) -> None:
        return None  # the service reports a NUL next to its field


class TextForm(Form):
    body: str = ""


class ChoiceForm(Form):
    #: "yes" to accept or agree, anything else to decline.
    answer: str = ""
    name: str = ""
    named: str = ""
    #: "yes" once the person confirmed a destructive action.
    confirm: str = ""


def _updatable(proposal: Proposal) -> bool:
    try:
        _require_updatable(proposal)
    except Conflict:
        return False
    return True


class ProposerController(Controller):
    path = "/p/{token:str}"
    include_in_schema = False

    def _page(
        self,
        request: Request,
        session: Session,
        token: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        person = person_by_private_token(session, token)
        proposal = session.get(Proposal, person.proposal_id)
        assert proposal is not None
        community = session.get(Community, proposal.community_id)
        assert community is not None
        service = ProposalService(session)
        is_proposer = person.role == PersonRole.PROPOSER.value
        response = page(
            request,
            "proposals/private.html",
            status_code=status_code,
            token=token,
            person=person,
            proposal=proposal,
            call=proposal.call,
            community=community,
            public=service.is_visible(proposal),
            proposal_url=proposal_path(proposal),
            is_proposer=is_proposer,
            can_edit=is_proposer and editable(proposal),
            can_withdraw=is_proposer and withdrawable(proposal),
            can_update=is_proposer and _updatable(proposal),
            people=[p for p in people_of(session, proposal) if p.id != person.id],
            merges=proposal_merges.pending_for(session, person),
            updates=service.updates(proposal),
            follows=follows.follows_of(session, community.id, person.email),
            kinds=[k for k in ProposalKind if k.value in proposal.call.kinds],
            languages=LANGUAGES,
            needs=NEEDS,
            values=values or _values_of(proposal),
            errors=errors or {},
        )
        return private(response)

    def _back(self, request: Request, token: str, notice: str) -> Response[Any]:
        flash(request, notice)
        return Redirect(f"/p/{token}", status_code=303, headers=PRIVATE_HEADERS)

    @get("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def private_page(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        response = self._page(request, db_session, token)
        person = person_by_private_token(db_session, token)
        proposal = db_session.get(Proposal, person.proposal_id)
        if proposal is not None and person.state == PersonState.ACCEPTED.value:
            # The link was mailed to them: this browser is them in the community now.
            remember(request, identity.person(db_session, proposal.community_id, person.email))
        return response

    @post(
        "/edit",
        opt=access(Access.TOKEN),
        sync_to_thread=True,
        dependencies={"needs": Provide(form_list("needs"))},
    )
    def edit(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[EditForm],
        needs: NamedDependency[list[str]],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        form = ProposalInput(**msgspec.structs.asdict(data), needs=needs)
        try:
            ProposalService(db_session).edit(person, form)
        except ValidationFailed as failed:
            values = {**msgspec.structs.asdict(data), "needs": needs}
            return self._page(
                request,
                db_session,
                token,
                values=values,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        return self._back(request, token, _("Your proposal is saved."))

    @post("/withdraw", opt=access(Access.TOKEN), sync_to_thread=True)
    def withdraw(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        if data.confirm != "yes":
            return self._question(request, token, "withdraw")
        ProposalService(db_session).withdraw(person)
        return self._back(request, token, _("Your proposal is withdrawn."))

    def _question(self, request: Request, token: str, action: str) -> Response[Any]:
        """The no-JavaScript confirmation step of a destructive action."""
        response = page(request, "proposals/confirm_action.html", token=token, action=action)
        return private(response)

    @post("/update", opt=access(Access.TOKEN), sync_to_thread=True)
    def post_update(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[TextForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        try:
            ProposalService(db_session).post_update(
                person, data.body, client=throttle.client_key(request)
            )
        except ValidationFailed as failed:
            errors = {"update_" + k: v for k, v in field_errors(failed.errors).items()}
            return self._page(request, db_session, token, errors=errors, status_code=400)
        except RateLimited:
            return self._page(
                request,
                db_session,
                token,
                errors={"update_body": error_message("too_many_attempts")},
                status_code=429,
            )
        return self._back(request, token, _("Your update is posted."))

    @post("/requests/{person_id:uuid}", opt=access(Access.TOKEN), sync_to_thread=True)
    def answer_request(
        self,
        request: Request,
        token: FromPath[str],
        person_id: FromPath[UUID],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        accept = data.answer == "yes"
        CoProposerService(db_session).answer(person, person_id, accept=accept)
        done = _("They are co-proposers now.") if accept else _("The request is declined.")
        return self._back(request, token, done)

    @post("/respond", opt=access(Access.TOKEN), sync_to_thread=True)
    def respond(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        accept = data.answer == "yes"
        try:
            CoProposerService(db_session).respond(
                person, accept=accept, name=data.name, named=data.named
            )
        except ValidationFailed as failed:
            return self._page(
                request,
                db_session,
                token,
                errors={"respond_" + k: v for k, v in field_errors(failed.errors).items()},
                status_code=400,
            )
        done = _("You co-propose it now.") if accept else _("You declined the invitation.")
        return self._back(request, token, done)

    @post("/named", opt=access(Access.TOKEN), sync_to_thread=True)
    def named(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        try:
            CoProposerService(db_session).set_named(person, named=data.named, name=data.name)
        except ValidationFailed as failed:
            return self._page(
                request,
                db_session,
                token,
                errors={"named_" + k: v for k, v in field_errors(failed.errors).items()},
                status_code=400,
            )
        return self._back(request, token, _("Saved."))

    @post("/leave", opt=access(Access.TOKEN), sync_to_thread=True)
    def leave(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        if data.confirm != "yes":
            return self._question(request, token, "leave")
        CoProposerService(db_session).leave(person)
        return self._back(request, token, _("You are no longer a co-proposer."))

    @post("/merges/{merge_id:uuid}", opt=access(Access.TOKEN), sync_to_thread=True)
    def answer_merge(
        self,
        request: Request,
        token: FromPath[str],
        merge_id: FromPath[UUID],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        if data.answer == "yes":
            proposal_merges.agree(db_session, person, merge_id)
            return self._back(request, token, _("You agreed to the merge."))
        proposal_merges.refuse(db_session, person, merge_id)
        return self._back(request, token, _("You refused the merge."))

    @post("/follows/stop", opt=access(Access.TOKEN), sync_to_thread=True)
    def stop_follows(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        proposal = db_session.get(Proposal, person.proposal_id)
        if proposal is None:
            raise NotFound()
        follows.stop_all(db_session, proposal.community_id, person.email)
        return self._back(request, token, _("You follow nothing any more."))

    @get("/data.json", opt=access(Access.TOKEN), sync_to_thread=True)
    def data_export(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        data = proposal_privacy.export(db_session, person)
        return Response(
            data,
            media_type="application/json",
            headers={
                **PRIVATE_HEADERS,
                "content-disposition": 'attachment; filename="my-proposal-data.json"',
            },
        )

    @post("/delete", opt=access(Access.TOKEN), sync_to_thread=True)
    def delete(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        person = person_by_private_token(db_session, token)
        if data.confirm != "yes":
            return self._question(request, token, "delete")
        proposal = db_session.get(Proposal, person.proposal_id)
        community = db_session.get(Community, proposal.community_id) if proposal else None
        if community is None:
            raise NotFound()
        proposal_privacy.erase(db_session, person)
        flash(request, _("Your data is erased."))
        return Redirect(f"/g/{community.slug}/proposals", status_code=303)


def _values_of(proposal: Proposal) -> dict[str, Any]:
    return {
        "title": proposal.title,
        "kind": proposal.kind,
        "body": proposal.body,
        "duration": "" if proposal.duration_minutes is None else str(proposal.duration_minutes),
        "language": proposal.language,
        "needs": list(proposal.needs),
        "needs_note": proposal.needs_note,
    }
