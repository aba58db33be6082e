"""Proposing without an account, and what happens to a proposal afterwards.

One method per use case. The proposer's: ``propose``, ``confirm_address`` (the double
opt-in's end: the proposal is published), ``edit``, ``withdraw``, ``post_update``. The
organisers': ``answer`` (now, or kept private and published together with
``publish_answers``). Anyone's: ``report``. Reading one proposal (``visible``); a call's
lists are events/services/proposal_listing.py's. Supports are
events/services/supports.py's, co-proposers events/services/co_proposers.py's, merges
events/services/proposal_merges.py's, "became ..." events/services/proposal_outcomes.py's;
when things may happen is events/proposal_lifecycle.py's. Every method flushes and never
commits; every change is logged and told through events/services/proposal_records.py.

Proposing
---------
A proposal stays **submitted** (invisible) until its proposer's address is confirmed by
the link mailed to it; then it is **published** and the proposer gets their private page
(``/p/{token}``). Someone already proven (a ticket holder proposing from their private
page, an address confirmed earlier in the same browser) publishes at once. The proposer's
proposals count against the call's ``proposals_per_person`` once published (a withdrawn
one gives its place back). A double submit (same form nonce) returns the first proposal.
A filled honeypot field (``trap``, invisible to people) writes nothing and answers like a
success. Proposing is limited per client and per address (events/form_limits.py).

Answers
-------
Organisers move a proposal as events/proposal_lifecycle.ORGANISER_MOVES allows, with a
reason code (translated on the pages: :data:`DECLINE_REASONS`) and their own words, shown
publicly. An answer kept private (``publish=False``) waits in ``draft_answer``; publishing
the call's answers applies them all at once, mails each proposal's proposers and followers,
and the call's followers once with the list.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from events.clock import utcnow
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.form_limits import FormLimit, require_within_limit
from events.models import (
    Community,
    Event,
    EventStatus,
    PersonRole,
    PersonState,
    ProgrammeItem,
    Proposal,
    ProposalCall,
    ProposalLog,
    ProposalPerson,
    ProposalStatus,
    ProposalSupport,
    ProposalUpdate,
)
from events.models.base import table_of
from events.proposal_export import ProposalRow
from events.proposal_lifecycle import (
    ANSWERS,
    PUBLIC_STATUSES,
    require_answer_allowed,
    require_editable,
    require_proposing_open,
    require_updatable,
    require_withdrawable,
    status_of,
)
from events.services import call_allowances, follows, identity, moderation
from events.services.call_allowances import Allowance
from events.services.identity import Confirmed, Person
from events.services.moderation import Reported
from events.services.proposal_records import (
    PROPOSAL,
    call_subject,
    log_change,
    mail_person,
    people_of,
    proposal_subject,
    proposer_of,
    tell_followers,
    tell_proposers,
)
from events.text import excerpt, markdown_to_text, render_markdown
from events.validation import FieldErrors, clean_email, clean_text, is_checked, parse_int

P = ProposalStatus
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10_000
UPDATE_MAX_LENGTH = 5_000
NOTE_MAX_LENGTH = 2_000
NAME_MAX_LENGTH = 120
MAX_CO_PROPOSERS = 3
MIN_DURATION, MAX_DURATION = 5, 600
LANGUAGES = ("fr", "en", "fr_en", "other")
NEEDS = ("room", "projector", "material")
DECLINE_REASONS = (
    "off_topic",
    "duplicate",
    "not_feasible",
    "no_room",
    "not_enough_support",
    "other",
)
#: Proposer updates mail followers at most this often per proposal.
UPDATE_MAIL_EVERY = timedelta(days=1)
PROPOSE_LIMIT = FormLimit(attempts=10, window=timedelta(hours=1))
UPDATE_LIMIT = FormLimit(attempts=10, window=timedelta(days=1))
REPORT_LIMIT = FormLimit(attempts=20, window=timedelta(hours=1))
_SPLIT_ADDRESSES = re.compile(r"[\s,;]+")


class Outcome(enum.StrEnum):
    #: Published at once (the proposer was already proven).
    PUBLISHED = "published"
    #: Waiting for the confirmation link mailed to the proposer (or a honeypot hit).
    CHECK_MAIL = "check_mail"
    #: The same form sent again: the first proposal, nothing new.
    REPLAYED = "replayed"


@dataclass
class ProposalInput:
    """What a proposer submits (strings, as forms send them; ``needs`` a list)."""

    title: str = ""
    kind: str = ""
    body: str = ""
    duration: str = ""
    language: str = ""
    needs: list[str] = field(default_factory=list)
    needs_note: str = ""
    #: Co-proposers' addresses, separated by commas, spaces or lines.
    co_proposers: str = ""
    name: str = ""
    email: str = ""
    #: The proposer agrees to be named on the proposal.
    named: str | bool = ""
    consent: str | bool = ""
    locale: str = "en"
    request_key: str = ""
    #: Who sends the form (web/throttle.py's client key), for the per-client limit.
    client: str = ""
    #: The honeypot: a field people never see; anything in it means a robot.
    trap: str = ""


@dataclass(frozen=True)
class Proposed:
    proposal: Proposal | None
    outcome: Outcome
    #: The proposer's row (their private page), when published now.
    proposer: ProposalPerson | None = None


def _request_key(value: str | None) -> str | None:
    key = (value or "").strip()
    ok = key and len(key) <= 64 and key.isascii() and key.isprintable() and " " not in key
    return key if ok else None


# The call is the caller's: not joined again with its community, but given (by_number).
_BY_NUMBER = (
    select(Proposal)
    .where(Proposal.call_id == bindparam("call_id"), Proposal.number == bindparam("number"))
    .options(lazyload(Proposal.call))
)


class ProposalService:
    """``actor_id`` is the organiser acting (recorded in the trail), None otherwise."""

    def __init__(self, session: Session, *, actor_id: UUID | None = None) -> None:
        self.session = session
        self.actor_id = actor_id

    # -- validation ------------------------------------------------------------------
    def _clean_content(
        self, call: ProposalCall, data: ProposalInput, errors: FieldErrors
    ) -> dict[str, Any]:
        title = errors.check(clean_text, "title", data.title, max_length=TITLE_MAX_LENGTH)
        body = errors.check(
            clean_text, "body", data.body, max_length=BODY_MAX_LENGTH, multiline=True
        )
        kind = (data.kind or "").strip()
        if kind not in call.kinds:
            errors.add("kind", "invalid_choice")
        duration = errors.check(
            parse_int, "duration", data.duration, minimum=MIN_DURATION, maximum=MAX_DURATION
        )
        language = (data.language or "").strip()
        if language and language not in LANGUAGES:
            errors.add("language", "invalid_choice")
        if any(need not in NEEDS for need in data.needs):
            errors.add("needs", "invalid_choice")
        needs_note = errors.check(
            clean_text, "needs_note", data.needs_note, max_length=500, required=False
        )
        return {
            "title": title,
            "kind": kind,
            "body": body,
            "body_html": render_markdown(body or ""),
            "body_text": markdown_to_text(body or ""),
            "duration_minutes": duration,
            "language": language,
            "needs": [need for need in NEEDS if need in data.needs],
            "needs_note": needs_note or "",
        }

    def clean(
        self, call: ProposalCall, data: ProposalInput, *, proven: Person | None
    ) -> dict[str, Any]:
        """Every field's error at once (``ValidationFailed``)."""
        errors = FieldErrors()
        values = self._clean_content(call, data, errors)
        values["name"] = errors.check(clean_text, "name", data.name, max_length=NAME_MAX_LENGTH)
        email = proven.email if proven else errors.check(clean_email, "email", data.email)
        values["email"] = email
        co_proposers: list[str] = []
        for raw in _SPLIT_ADDRESSES.split(data.co_proposers or ""):
            if not raw:
                continue
            try:
                address = clean_email("co_proposers", raw)
            except ValidationFailed:
                errors.add("co_proposers", "invalid_email")
                continue
            if address != email and address not in co_proposers:
                co_proposers.append(address)
        if len(co_proposers) > MAX_CO_PROPOSERS:
            errors.add("co_proposers", "too_many")
        values["co_proposers"] = co_proposers
        if not is_checked(data.consent):
            errors.add("consent", "required")
        errors.raise_if_any()
        values["named"] = is_checked(data.named)
        return values

    # -- proposing -------------------------------------------------------------------
    def propose(
        self, call: ProposalCall, data: ProposalInput, *, person: Person | None = None
    ) -> Proposed:
        """Submit a proposal; see the module docstring. ``person`` is the proposer when
        already proven (their address is then the proposal's), else the typed address is
        mailed a confirmation link."""
        now = utcnow()
        values = self.clean(call, data, proven=person)
        if data.trap.strip():
            return Proposed(None, Outcome.CHECK_MAIL)  # a robot: nothing written, same answer
        require_proposing_open(call, now)
        email: str = values["email"]
        key = identity.person_key(self.session, call.community_id, email)
        require_within_limit(self.session, "propose", PROPOSE_LIMIT, client=data.client, person=key)
        request_key = _request_key(data.request_key)
        if request_key is not None:
            earlier = self.session.scalar(
                select(Proposal).where(
                    Proposal.call_id == call.id, Proposal.request_key == request_key
                )
            )
            if earlier is not None:
                return Proposed(earlier, Outcome.REPLAYED)
        used = call_allowances.used(self.session, call.id, key, Allowance.PROPOSALS)
        if used >= call.proposals_per_person:
            raise Conflict("too_many_proposals")
        proposal = Proposal(
            call_id=call.id,
            community_id=call.community_id,
            number=self._next_number(call),
            status=P.SUBMITTED.value,
            proposer_key=key,
            request_key=request_key,
            supports=0,
            **{name: values[name] for name in _CONTENT},
        )
        proposal.call = call
        self.session.add(proposal)
        self.session.flush()
        locale = (data.locale or "en")[:8]
        proposer = ProposalPerson(
            proposal_id=proposal.id,
            role=PersonRole.PROPOSER.value,
            state=PersonState.PENDING.value,
            name=values["name"],
            email=email,
            person_key=key,
            named=values["named"],
            locale=locale,
        )
        self.session.add(proposer)
        for address in values["co_proposers"]:
            self.session.add(
                ProposalPerson(
                    proposal_id=proposal.id,
                    role=PersonRole.CO_PROPOSER.value,
                    state=PersonState.INVITED.value,
                    email=address,
                    person_key=identity.person_key(self.session, call.community_id, address),
                    locale=locale,
                )
            )
        self.session.flush()
        log_change(self.session, proposal, "submitted", to_status=P.SUBMITTED.value, public=False)
        if person is not None:
            self._publish(proposal, proposer, now)
            return Proposed(proposal, Outcome.PUBLISHED, proposer)
        identity.request_confirmation(
            self.session,
            self._community(call),
            email,
            "proposal",
            {"proposal_id": proposal.id.hex, "person_id": proposer.id.hex},
            locale=locale,
            context={"title": proposal.title, "name": proposer.name},
            now=now,
        )
        return Proposed(proposal, Outcome.CHECK_MAIL)

    def _next_number(self, call: ProposalCall) -> int:
        """The call's next proposal number: one conditional increment (never reused)."""
        table = table_of(ProposalCall)
        number = self.session.execute(
            update(table)
            .where(table.c.id == call.id)
            .values(proposals_made=table.c.proposals_made + 1)
            .returning(table.c.proposals_made)
        ).scalar_one()
        call.proposals_made = number
        return int(number)

    def confirm_address(self, confirmed: Confirmed) -> ProposalPerson:
        """The proposer clicked the link: the proposal is published (a second click
        changes nothing). Returns the proposer, whose private page opens next."""
        payload = confirmed.payload
        try:
            proposal_id, person_id = UUID(payload["proposal_id"]), UUID(payload["person_id"])
        except (KeyError, ValueError):
            raise NotFound() from None
        proposal = self._locked(proposal_id)
        proposer = self.session.get(ProposalPerson, person_id)
        if proposer is None or proposer.proposal_id != proposal.id:
            raise NotFound()
        if proposer.email != confirmed.person.email:
            raise NotFound()
        if status_of(proposal) is P.SUBMITTED:
            self._publish(proposal, proposer, utcnow())
        return proposer

    def _publish(self, proposal: Proposal, proposer: ProposalPerson, now: datetime) -> None:
        call = proposal.call
        if (
            call_allowances.take(
                self.session,
                call.id,
                proposal.proposer_key,
                Allowance.PROPOSALS,
                call.proposals_per_person,
            )
            is None
        ):
            raise Conflict("too_many_proposals")
        proposal.status = P.PUBLISHED.value
        proposal.published_at = now
        proposer.state = PersonState.ACCEPTED.value
        proposer.confirmed_at = now
        self.session.flush()
        log_change(
            self.session,
            proposal,
            "published",
            from_status=P.SUBMITTED.value,
            to_status=P.PUBLISHED.value,
        )
        mail_person(self.session, proposal, proposer, "proposal_published")
        for person in people_of(self.session, proposal):
            if person.state == PersonState.INVITED.value:
                mail_person(
                    self.session,
                    proposal,
                    person,
                    "co_proposer_invited",
                    {"proposer": proposer.name},
                )

    # -- the proposer's page ---------------------------------------------------------
    def edit(self, person: ProposalPerson, data: ProposalInput) -> Proposal:
        """The proposer changes their proposal, until the organisers answer it."""
        proposal = self._locked(person.proposal_id)
        self._require_proposer(person)
        require_editable(proposal)
        errors = FieldErrors()
        values = self._clean_content(proposal.call, data, errors)
        errors.raise_if_any()
        changed = [name for name in _CONTENT if getattr(proposal, name) != values[name]]
        for name in _CONTENT:
            setattr(proposal, name, values[name])
        if changed:
            log_change(
                self.session,
                proposal,
                "edited",
                public=False,
                fields=[n for n in changed if n in _EDIT_FIELDS],
            )
        return proposal

    def withdraw(self, person: ProposalPerson) -> Proposal:
        """The proposer withdraws it: its place among their proposals and its supporters'
        budget come back; followers are told. Withdrawing again changes nothing."""
        proposal = self._locked(person.proposal_id)
        self._require_proposer(person)
        if status_of(proposal) is P.WITHDRAWN:
            return proposal
        require_withdrawable(proposal)
        before = proposal.status
        call_allowances.give_back(
            self.session, proposal.call_id, [proposal.proposer_key], Allowance.PROPOSALS
        )
        supports = self.release_supports(proposal)
        proposal.status = P.WITHDRAWN.value
        proposal.draft_answer = None
        self.session.flush()
        log_change(
            self.session,
            proposal,
            "withdrawn",
            from_status=before,
            to_status=P.WITHDRAWN.value,
            supports=supports,
        )
        told = tell_proposers(self.session, proposal, "proposal_status")
        tell_followers(self.session, proposal, "proposal_status", leave_out=told)
        return proposal

    def release_supports(self, proposal: Proposal) -> int:
        """Delete the proposal's supports and give each supporter their unit back (a
        withdrawn proposal); returns how many there were."""
        keys = list(
            self.session.scalars(
                select(ProposalSupport.supporter_key).where(
                    ProposalSupport.proposal_id == proposal.id
                )
            )
        )
        call_allowances.give_back(self.session, proposal.call_id, keys, Allowance.SUPPORTS)
        self.session.execute(
            table_of(ProposalSupport)
            .delete()
            .where(table_of(ProposalSupport).c.proposal_id == proposal.id)
        )
        proposal.supports = 0
        return len(keys)

    def post_update(self, person: ProposalPerson, body: str, *, client: str = "") -> ProposalUpdate:
        """The proposer posts news on the proposal. Followers are mailed at most once a
        day per proposal (later updates of the day show on the page only)."""
        proposal = self._locked(person.proposal_id)
        self._require_proposer(person)
        require_updatable(proposal)
        text = clean_text("body", body, max_length=UPDATE_MAX_LENGTH, multiline=True)
        require_within_limit(
            self.session, "proposal_update", UPDATE_LIMIT, client=client, person=person.person_key
        )
        update_row = ProposalUpdate(
            proposal_id=proposal.id, body=text, body_html=render_markdown(text)
        )
        self.session.add(update_row)
        self.session.flush()
        log_change(self.session, proposal, "update_posted")
        now = utcnow()
        last = proposal.update_mailed_at
        if last is None or now - last >= UPDATE_MAIL_EVERY:
            proposal.update_mailed_at = now
            keys = {p.person_key for p in people_of(self.session, proposal)}
            tell_followers(
                self.session,
                proposal,
                "proposal_update",
                {"update": excerpt(text, 1000)},
                leave_out=keys,
                with_call=False,
            )
        return update_row

    # -- organisers' answers ---------------------------------------------------------
    def answer(
        self, proposal: Proposal, status: str, reason: str = "", note: str = "", *, publish: bool
    ) -> Proposal:
        """An organiser's answer: under discussion, accepted or declined (a reason code
        from :data:`DECLINE_REASONS` for declined, and words of their own), published now
        or kept private until ``publish_answers``."""
        proposal = self._locked(proposal.id)
        to, reason, note = self._clean_answer(status, reason, note)
        require_answer_allowed(proposal, to)
        if publish:
            self._apply_answer(proposal, to, reason, note, with_call=True)
        else:
            proposal.draft_answer = {"status": to.value, "reason": reason, "note": note}
            self.session.flush()
            log_change(
                self.session,
                proposal,
                "answer_drafted",
                from_status=proposal.status,
                to_status=to.value,
                reason=reason,
                public=False,
                actor_id=self.actor_id,
            )
        return proposal

    def drop_draft_answer(self, proposal: Proposal) -> None:
        proposal.draft_answer = None
        self.session.flush()

    def publish_answers(self, call: ProposalCall) -> int:
        """Publish every answer kept private in ``call``; each proposal's people and
        followers are mailed, the call's followers once with the list. Answers that no
        longer apply (the proposal was withdrawn meanwhile) are dropped."""
        drafts = list(
            self.session.scalars(
                select(Proposal)
                .where(Proposal.call_id == call.id, Proposal.draft_answer.is_not(None))
                .order_by(Proposal.number)
                .with_for_update(of=Proposal)
            )
        )
        published: list[dict[str, Any]] = []
        told: set[str] = set()
        for proposal in drafts:
            draft = proposal.draft_answer or {}
            to = P(draft.get("status", ""))
            try:
                require_answer_allowed(proposal, to)
            except Conflict:
                proposal.draft_answer = None
                continue
            told |= self._apply_answer(
                proposal, to, draft.get("reason", ""), draft.get("note", ""), with_call=False
            )
            published.append(
                {
                    "title": proposal.title,
                    "number": proposal.number,
                    "status": to.value,
                    "reason": proposal.answer_reason,
                    "note": proposal.answer_note,
                }
            )
        self.session.flush()
        if published:
            follows.notify(
                self.session,
                self._community(call),
                call_subject(call),
                "answers_published",
                {"answers": published},
                leave_out=told,
            )
        return len(published)

    def _clean_answer(self, status: str, reason: str, note: str) -> tuple[ProposalStatus, str, str]:
        errors = FieldErrors()
        try:
            to = P((status or "").strip())
        except ValueError:
            to = None
        if to is None or to not in ANSWERS:
            errors.add("status", "invalid_choice")
        reason = (reason or "").strip()
        if to is P.DECLINED and reason not in DECLINE_REASONS:
            errors.add("reason", "required" if not reason else "invalid_choice")
        if to is not P.DECLINED:
            reason = ""
        note = errors.check(
            clean_text,
            "note",
            note,
            max_length=NOTE_MAX_LENGTH,
            required=reason == "other",
            multiline=True,
        )
        errors.raise_if_any()
        assert to is not None
        return to, reason, note or ""

    def _apply_answer(
        self, proposal: Proposal, to: ProposalStatus, reason: str, note: str, *, with_call: bool
    ) -> set[str]:
        before = proposal.status
        proposal.status = to.value
        proposal.answer_reason, proposal.answer_note = reason, note
        proposal.answered_at = utcnow()
        proposal.draft_answer = None
        self.session.flush()
        log_change(
            self.session,
            proposal,
            "answered",
            from_status=before,
            to_status=to.value,
            reason=reason,
            note=note,
            actor_id=self.actor_id,
        )
        context = {"reason": reason, "note": note, "previous": before}
        told = tell_proposers(self.session, proposal, "proposal_status", context)
        return told | tell_followers(
            self.session,
            proposal,
            "proposal_status",
            context,
            leave_out=told,
            with_call=with_call,
        )

    # -- reports ---------------------------------------------------------------------
    def report(
        self, proposal: Proposal, person: Person, reason: str, note: str = "", *, client: str = ""
    ) -> Reported:
        """``person`` reports a public proposal (events/services/moderation.py: three
        people hide it until an organiser decides; the proposer is told)."""
        if not self.is_visible(proposal):
            raise NotFound()
        require_within_limit(self.session, "report", REPORT_LIMIT, client=client, person=person.key)
        result = moderation.report(self.session, proposal_subject(proposal), person, reason, note)
        if result.hid_it:
            self.tell_moderated(proposal, "hidden_by_reports", "")
        return result

    def report_by_mail(
        self,
        proposal: Proposal,
        email: str,
        reason: str,
        note: str = "",
        *,
        locale: str,
        client: str = "",
        trap: str = "",
    ) -> None:
        """Someone not yet proven reports: the report counts once their address is
        confirmed (three distinct people hide a proposal, so each must be a person)."""
        email = clean_email("email", email)
        reason = moderation.clean_reason(reason)
        note = clean_text(
            "note", note, max_length=moderation.NOTE_MAX_LENGTH, required=False, multiline=True
        )
        if trap.strip():
            return
        if not self.is_visible(proposal):
            raise NotFound()
        require_within_limit(self.session, "report", REPORT_LIMIT, client=client, person=email)
        identity.request_confirmation(
            self.session,
            self._community(proposal.call),
            email,
            "report",
            {"proposal_id": proposal.id.hex, "reason": reason, "note": note},
            locale=locale,
            context={"title": proposal.title},
        )

    def tell_moderated(self, proposal: Proposal, action: str, reason: str) -> None:
        """Record a moderation decision in the trail (not public) and tell the proposer."""
        log_change(
            self.session,
            proposal,
            action,
            reason=action,
            note=reason,
            public=False,
            actor_id=self.actor_id,
        )
        mail_person(
            self.session,
            proposal,
            proposer_of(self.session, proposal),
            "moderation",
            {"action": action, "reason": reason},
        )

    # -- reading ---------------------------------------------------------------------
    def is_visible(self, proposal: Proposal) -> bool:
        """Public status, and not hidden by moderation."""
        return status_of(proposal) in PUBLIC_STATUSES and not moderation.is_hidden(
            self.session, PROPOSAL, proposal.id
        )

    def by_number(self, call: ProposalCall, number: int) -> Proposal:
        """A proposal of ``call`` whatever its status (organisers)."""
        found = self.session.scalar(_BY_NUMBER, {"call_id": call.id, "number": number})
        if found is None:
            raise NotFound()
        if "call" not in found.__dict__:  # not loaded yet: it is ``call`` (the query says so)
            set_committed_value(found, "call", call)
        return found

    def visible(self, call: ProposalCall, number: int) -> Proposal:
        """A proposal everyone may see (``NotFound`` for submitted or hidden ones)."""
        found = self.by_number(call, number)
        if not self.is_visible(found):
            raise NotFound()
        return found

    def trail(self, proposal: Proposal, *, everything: bool = False) -> list[ProposalLog]:
        """Its status trail, oldest first (public entries unless ``everything``)."""
        query = select(ProposalLog).where(ProposalLog.proposal_id == proposal.id)
        if not everything:
            query = query.where(ProposalLog.public.is_(True))
        return list(self.session.scalars(query.order_by(ProposalLog.created_at, ProposalLog.id)))

    def updates(self, proposal: Proposal) -> list[ProposalUpdate]:
        return list(
            self.session.scalars(
                select(ProposalUpdate)
                .where(ProposalUpdate.proposal_id == proposal.id)
                .order_by(ProposalUpdate.created_at.desc())
            )
        )

    def named_people(self, proposal: Proposal) -> list[str]:
        """The names shown on the proposal: those who agreed to be named, and joined."""
        return [
            person.name
            for person in people_of(self.session, proposal)
            if person.named and person.name and person.state == PersonState.ACCEPTED.value
        ]

    def became(self, proposal: Proposal) -> tuple[Event, ProgrammeItem | None] | None:
        """What the proposal became, once public: the event (and the programme session
        in it), or None (nothing yet, or a draft nobody may see)."""
        if proposal.became_event_id is None:
            return None
        event = self.session.get(Event, proposal.became_event_id)
        if event is None or event.status is EventStatus.DRAFT:
            return None
        item = (
            self.session.get(ProgrammeItem, proposal.became_item_id)
            if proposal.became_item_id
            else None
        )
        return event, item

    def merged_into(self, proposal: Proposal) -> Proposal | None:
        if proposal.merged_into_id is None:
            return None
        return self.session.get(Proposal, proposal.merged_into_id)

    def of_call(self, call: ProposalCall, *, status: str = "") -> list[Proposal]:
        """Every proposal of the call but unconfirmed ones (organisers), by number."""
        query = select(Proposal).where(
            Proposal.call_id == call.id, Proposal.status != P.SUBMITTED.value
        )
        if status:
            query = query.where(Proposal.status == status)
        return list(self.session.scalars(query.order_by(Proposal.number)))

    def export_rows(self, call: ProposalCall) -> list[ProposalRow]:
        """The organisers' CSV rows of the call (events/proposal_export.py)."""
        hidden = self.hidden_ids(call)
        threshold = call.threshold
        return [
            ProposalRow(
                number=proposal.number,
                title=proposal.title,
                kind=proposal.kind,
                status=proposal.status,
                supports=proposal.supports,
                ready=threshold is not None and proposal.ready_at is not None,
                duration_minutes=proposal.duration_minutes,
                language=proposal.language,
                needs=", ".join(
                    proposal.needs + ([proposal.needs_note] if proposal.needs_note else [])
                ),
                names=", ".join(self.named_people(proposal)),
                published_at=proposal.published_at,
                answer=" — ".join(
                    part for part in (proposal.answer_reason, proposal.answer_note) if part
                ),
                hidden=proposal.id in hidden,
            )
            for proposal in self.of_call(call)
        ]

    def hidden_ids(self, call: ProposalCall) -> set[UUID]:
        return set(
            self.session.scalars(
                select(Proposal.id).where(
                    Proposal.call_id == call.id, moderation.hidden_clause(PROPOSAL, Proposal.id)
                )
            )
        )

    # -- internals -------------------------------------------------------------------
    def _locked(self, proposal_id: UUID) -> Proposal:
        """The proposal, its row locked for this transaction (PostgreSQL; SQLite writers
        are serialised anyway) and read afresh."""
        found = self.session.scalar(
            select(Proposal)
            .where(Proposal.id == proposal_id)
            .with_for_update(of=Proposal)
            .execution_options(populate_existing=True)
        )
        if found is None:
            raise NotFound()
        return found

    @staticmethod
    def _require_proposer(person: ProposalPerson) -> None:
        if person.role != PersonRole.PROPOSER.value:
            raise Forbidden("proposer_only")

    def _community(self, call: ProposalCall) -> Community:
        community = self.session.get(Community, call.community_id)
        if community is None:
            raise NotFound()
        return community


#: The columns a proposer writes (and edits).
_CONTENT = (
    "title",
    "kind",
    "body",
    "body_html",
    "body_text",
    "duration_minutes",
    "language",
    "needs",
    "needs_note",
)
#: What the trail names when an edit changed it (the rendered forms follow the body).
_EDIT_FIELDS = frozenset(_CONTENT) - {"body_html", "body_text"}
