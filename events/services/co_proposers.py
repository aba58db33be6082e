"""Joining forces: co-proposers of a proposal, always with both sides' consent.

Two ways in, each needing the other side's yes (contact between people only with both
sides' consent):

- the proposer names co-proposers' addresses when proposing: each is mailed, once the
  proposal is published, a link to their own private page, where they accept (choosing
  whether to be named, and under which name) or decline (:meth:`respond`);
- anyone proven (events/services/identity.py) asks to co-propose, with a word for the
  proposer (:meth:`ask`); the proposer accepts or declines from their private page
  (:meth:`answer`), and the asker is mailed the answer (with their private page if yes).

A co-proposer is named on the proposal only if they agreed to be (``named``), which they
can change (:meth:`set_named`), and can leave (:meth:`leave`). Addresses are never shown
to anyone. Every change is in the proposal's trail, without names.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.form_limits import FormLimit, require_within_limit
from events.models import Community, PersonRole, PersonState, Proposal, ProposalPerson
from events.proposal_lifecycle import require_updatable
from events.services import identity
from events.services.identity import Person
from events.services.proposal_records import log_change, mail_person, proposer_of
from events.validation import clean_text, is_checked

PURPOSE = "co_proposal"
MESSAGE_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 120
ASK_LIMIT = FormLimit(attempts=10, window=timedelta(hours=1))


class CoProposerService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def clean_request(self, name: str, message: str) -> tuple[str, str]:
        errors: dict[str, str] = {}
        try:
            name = clean_text("name", name, max_length=NAME_MAX_LENGTH)
        except ValidationFailed as failed:
            errors.update(failed.errors)
        try:
            message = clean_text(
                "message", message, max_length=MESSAGE_MAX_LENGTH, required=False, multiline=True
            )
        except ValidationFailed as failed:
            errors.update(failed.errors)
        if errors:
            raise ValidationFailed(errors)
        return name, message

    def ask_by_mail(
        self,
        proposal: Proposal,
        community: Community,
        email: str,
        *,
        name: str,
        message: str,
        named: str | bool,
        locale: str,
        client: str = "",
    ) -> None:
        """Someone typed their address to ask to join: mail them the confirmation link
        (the request reaches the proposer once they click)."""
        name, message = self.clean_request(name, message)
        require_updatable(proposal)
        key = identity.person_key(self.session, proposal.community_id, email)
        require_within_limit(self.session, "co_proposal", ASK_LIMIT, client=client, person=key)
        identity.request_confirmation(
            self.session,
            community,
            email,
            PURPOSE,
            {
                "proposal_id": proposal.id.hex,
                "name": name,
                "message": message,
                "named": is_checked(named),
                "locale": locale,
            },
            locale=locale,
            context={"title": proposal.title},
        )

    def ask(
        self,
        proposal: Proposal,
        person: Person,
        *,
        name: str,
        message: str,
        named: str | bool,
        locale: str,
        client: str = "",
    ) -> ProposalPerson:
        """``person`` (proven) asks to co-propose; the proposer is mailed. Asking again
        (or being a proposer of it already) returns their existing row."""
        name, message = self.clean_request(name, message)
        require_updatable(proposal)
        existing = self.session.scalar(
            select(ProposalPerson).where(
                ProposalPerson.proposal_id == proposal.id,
                ProposalPerson.person_key == person.key,
            )
        )
        if existing is not None:
            return existing
        require_within_limit(
            self.session, "co_proposal", ASK_LIMIT, client=client, person=person.key
        )
        row = ProposalPerson(
            proposal_id=proposal.id,
            role=PersonRole.CO_PROPOSER.value,
            state=PersonState.REQUESTED.value,
            name=name,
            email=person.email,
            person_key=person.key,
            named=is_checked(named),
            message=message,
            locale=locale,
            confirmed_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        log_change(self.session, proposal, "co_proposal_requested", public=False)
        mail_person(
            self.session,
            proposal,
            proposer_of(self.session, proposal),
            "co_proposal_requested",
            {"requester": name, "message": message},
        )
        return row

    def answer(self, proposer: ProposalPerson, request_id: UUID, *, accept: bool) -> ProposalPerson:
        """The proposer accepts or declines a request to join; the asker is mailed."""
        if proposer.role != PersonRole.PROPOSER.value:
            raise Forbidden("proposer_only")
        row = self.session.get(ProposalPerson, request_id)
        if row is None or row.proposal_id != proposer.proposal_id:
            raise NotFound()
        if row.state != PersonState.REQUESTED.value:
            raise Conflict("request_answered")
        proposal = self._proposal(row)
        row.state = (PersonState.ACCEPTED if accept else PersonState.DECLINED).value
        self._log_answer(proposal, accept)
        mail_person(self.session, proposal, row, "co_proposal_answered", {"accepted": accept})
        return row

    def respond(
        self, person: ProposalPerson, *, accept: bool, name: str = "", named: str | bool = ""
    ) -> ProposalPerson:
        """An invited co-proposer answers the proposer's invitation from their own private
        page (which the invitation mail opened: their address is proven)."""
        if person.state != PersonState.INVITED.value:
            raise Conflict("request_answered")
        proposal = self._proposal(person)
        if accept:
            person.name = clean_text("name", name, max_length=NAME_MAX_LENGTH)
            person.named = is_checked(named)
            person.state = PersonState.ACCEPTED.value
        else:
            person.state = PersonState.DECLINED.value
        person.confirmed_at = utcnow()
        self._log_answer(proposal, accept)
        return person

    def set_named(self, person: ProposalPerson, *, named: str | bool, name: str) -> ProposalPerson:
        """Whether (and under which name) a proposer or co-proposer is shown on it."""
        person.name = clean_text("name", name, max_length=NAME_MAX_LENGTH)
        person.named = is_checked(named)
        self.session.flush()
        return person

    def leave(self, person: ProposalPerson) -> ProposalPerson:
        """A co-proposer steps back (their name goes from the proposal)."""
        if person.role == PersonRole.PROPOSER.value:
            raise Forbidden("proposer_cannot_leave")
        if person.state == PersonState.ACCEPTED.value:
            person.state = PersonState.DECLINED.value
            person.named = False
            self.session.flush()
            log_change(self.session, self._proposal(person), "co_proposer_left")
        return person

    def _log_answer(self, proposal: Proposal, accept: bool) -> None:
        """The trail says someone joined (publicly, without a name) or not (privately)."""
        self.session.flush()
        log_change(
            self.session,
            proposal,
            "co_proposer_joined" if accept else "co_proposal_declined",
            public=accept,
        )

    def _proposal(self, person: ProposalPerson) -> Proposal:
        proposal = self.session.get(Proposal, person.proposal_id)
        if proposal is None:
            raise NotFound()
        return proposal
