"""What a confirmed address finishes: one handler per purpose of the double opt-in.

events/services/identity.py keeps the action someone asked for until their address is
confirmed; when the link (``/c/{token}``) is clicked, :func:`confirm_address` confirms it
and hands the proven person and the action to the feature that asked. A feature adds
its purpose here (its handler, and its mail's wording in
``events/mail/templates/community/purposes/``).

An action that cannot be done any more (the call closed meanwhile, the budget is spent)
still confirms the address: the answer says why the action failed (``error``), and the
person is proven for what they do next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound
from events.models import Community, Event, Proposal, ProposalCall, Shift
from events.services import board_follows, follows, identity
from events.services.co_proposers import CoProposerService
from events.services.follows import Subject
from events.services.identity import Confirmed, Person
from events.services.proposal_records import (
    CALL,
    PROPOSAL,
    call_subject,
    private_path,
    proposal_path,
    proposal_subject,
)
from events.services.proposals import ProposalService
from events.services.supports import SupportService
from events.services.volunteers import PURPOSE as VOLUNTEER
from events.services.volunteers import VolunteerService


@dataclass(frozen=True)
class ConfirmationOutcome:
    """What the confirmation page says and where it leads."""

    person: Person
    #: What was done: "proposal_published", "supported", "following", "reported",
    #: "co_proposal_requested", "volunteered" (the pages translate it).
    done: str
    #: Where to go next (site-relative).
    path: str
    #: The ``Conflict`` code when the action itself could not be done.
    error: str | None = None
    #: The link had been used before (the action was done then).
    already: bool = False


Handler = Callable[[Session, Confirmed], ConfirmationOutcome]


def _proposal(session: Session, confirmed: Confirmed) -> Proposal:
    try:
        proposal = session.get(Proposal, UUID(str(confirmed.payload.get("proposal_id"))))
    except ValueError:
        proposal = None
    if proposal is None or proposal.community_id != confirmed.person.community_id:
        raise NotFound()
    return proposal


def _published(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    proposer = ProposalService(session).confirm_address(confirmed)
    path = private_path(session, proposer, confirmed.person.community_id)
    return ConfirmationOutcome(confirmed.person, "proposal_published", path)


def _supported(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    proposal = _proposal(session, confirmed)
    path = proposal_path(proposal)
    if confirmed.already:
        return ConfirmationOutcome(confirmed.person, "supported", path, already=True)
    try:
        with session.begin_nested():  # a refused support leaves the confirmation done
            SupportService(session).support(proposal, confirmed.person)
    except Conflict as refused:
        return ConfirmationOutcome(confirmed.person, "supported", path, error=refused.code)
    return ConfirmationOutcome(confirmed.person, "supported", path)


def subject_of(session: Session, kind: str, subject_id: UUID) -> Subject:
    """A followable subject by kind and id (``NotFound`` for anything else)."""
    if kind == PROPOSAL:
        proposal = session.get(Proposal, subject_id)
        if proposal is not None:
            return proposal_subject(proposal)
    elif kind == CALL:
        call = session.get(ProposalCall, subject_id)
        if call is not None:
            return call_subject(call)
    elif kind == board_follows.TOPIC:
        return board_follows.topic_subject_of(session, subject_id)
    raise NotFound()


def _following(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    payload = confirmed.payload
    try:
        subject = subject_of(session, str(payload.get("kind")), UUID(str(payload.get("id"))))
    except ValueError:
        raise NotFound() from None
    if subject.community_id != confirmed.person.community_id:
        raise NotFound()
    follows.follow(session, subject, confirmed.person, locale=str(payload.get("locale") or "en"))
    return ConfirmationOutcome(confirmed.person, "following", subject.path)


def _reported(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    proposal = _proposal(session, confirmed)
    call_page = proposal_path(proposal).rsplit("/", 1)[0]
    if confirmed.already:
        return ConfirmationOutcome(confirmed.person, "reported", call_page, already=True)
    payload = confirmed.payload
    try:
        with session.begin_nested():
            ProposalService(session).report(
                proposal,
                confirmed.person,
                str(payload.get("reason") or ""),
                str(payload.get("note") or ""),
            )
    except NotFound:  # hidden or withdrawn meanwhile: nothing left to report
        return ConfirmationOutcome(confirmed.person, "reported", call_page, "proposal_gone")
    return ConfirmationOutcome(confirmed.person, "reported", call_page)


def _co_proposal(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    proposal = _proposal(session, confirmed)
    payload = confirmed.payload
    path = proposal_path(proposal)
    try:
        with session.begin_nested():
            CoProposerService(session).ask(
                proposal,
                confirmed.person,
                name=str(payload.get("name") or ""),
                message=str(payload.get("message") or ""),
                named=bool(payload.get("named")),
                locale=str(payload.get("locale") or "en"),
            )
    except Conflict as refused:
        return ConfirmationOutcome(confirmed.person, "co_proposal_requested", path, refused.code)
    return ConfirmationOutcome(confirmed.person, "co_proposal_requested", path)


def _shift(session: Session, payload: dict[str, object], community_id: UUID) -> Shift | None:
    """The shift a volunteer's confirmation is about, if it is still the community's."""
    try:
        shift = session.get(Shift, UUID(str(payload.get("shift_id"))))
    except ValueError:
        return None
    event = session.get(Event, shift.event_id) if shift is not None else None
    if event is None or event.community_id != community_id:
        return None
    return shift


def _volunteered(session: Session, confirmed: Confirmed) -> ConfirmationOutcome:
    """Sign the proven address up for the shift (every rule checked again now: the shift
    may have filled or started since the mail). Done: the volunteer's private page."""
    community = session.get(Community, confirmed.person.community_id)
    back = f"/g/{community.slug}/volunteer" if community else "/"
    if confirmed.already:
        return ConfirmationOutcome(confirmed.person, "volunteered", back, already=True)
    shift = _shift(session, confirmed.payload, confirmed.person.community_id)
    if shift is None:  # removed by the organisers meanwhile
        return ConfirmationOutcome(confirmed.person, "volunteered", back, error="shift_gone")
    payload = confirmed.payload
    try:
        with session.begin_nested():  # a refused sign-up leaves the confirmation done
            result = VolunteerService(session).sign_up_with_confirmed_address(
                shift,
                name=str(payload.get("name") or ""),
                email=confirmed.person.email,
                locale=str(payload.get("locale") or "en"),
            )
    except Conflict as refused:
        return ConfirmationOutcome(confirmed.person, "volunteered", back, error=refused.code)
    return ConfirmationOutcome(confirmed.person, "volunteered", f"/v/{result.token}")


HANDLERS: dict[str, Handler] = {
    "proposal": _published,
    "support": _supported,
    follows.PURPOSE: _following,
    "report": _reported,
    "co_proposal": _co_proposal,
    VOLUNTEER: _volunteered,
}


@dataclass(frozen=True)
class Pending:
    """What a confirmation link is about, for the page that asks for the click."""

    purpose: str
    #: The title of what the action is about ("" if gone).
    title: str
    confirmed: bool
    expired: bool


def describe(session: Session, token: str | None) -> Pending:
    """What the link ``token`` confirms (``NotFound`` for an unknown link)."""
    found = identity.pending_confirmation(session, token)
    title = ""
    payload = found.payload or {}
    try:
        if "proposal_id" in payload:
            title = _proposal_title(session, UUID(str(payload["proposal_id"])))
        elif "shift_id" in payload:
            shift = _shift(session, payload, found.community_id)
            event = session.get(Event, shift.event_id) if shift else None
            title = event.title if event else ""
        elif "kind" in payload:
            title = subject_of(session, str(payload["kind"]), UUID(str(payload["id"]))).title
    except (ValueError, NotFound):
        title = ""
    return Pending(
        purpose=found.purpose,
        title=title,
        confirmed=found.confirmed_at is not None,
        expired=found.expires_at <= utcnow(),
    )


def _proposal_title(session: Session, proposal_id: UUID) -> str:
    proposal = session.get(Proposal, proposal_id)
    return proposal.title if proposal is not None else ""


def confirm_address(session: Session, token: str | None) -> ConfirmationOutcome:
    """Confirm the address of the link ``token`` and finish its action."""
    confirmed = identity.confirm(session, token)
    handler = HANDLERS.get(confirmed.purpose)
    if handler is None:
        raise NotFound()
    return handler(session, confirmed)
