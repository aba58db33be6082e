"""What every change of a proposal leaves behind: a row in its trail and, when people
should know, queued mails (to its proposers, through their private links, and to its
followers and its call's, with one-click unsubscribe).

The proposal use cases (events/services/proposals.py), supports, co-proposers, merges and
moderation all record through here, so a change is logged and told the same way
whoever makes it. Also here: a proposal's and a call's public address and follow
subject, and the proposers' private links (``/p/{token}``, signed links:
events/services/identity.py), which every mail to a proposer can therefore carry.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.content_version import mark_content_changed
from events.errors import NotFound
from events.mail.community import queue_community_mail
from events.models import (
    Community,
    PersonRole,
    PersonState,
    Proposal,
    ProposalCall,
    ProposalLog,
    ProposalPerson,
    ProposalStatus,
)
from events.services import follows, identity
from events.services.follows import Subject
from events.services.proposal_calls import call_path
from events.webhook_queue import queue_webhook

#: Subject kinds (follows, moderation) and the signed-link purpose of private pages.
PROPOSAL = "proposal"
CALL = "call"
PRIVATE_PAGE = "proposer"


def proposal_path(proposal: Proposal) -> str:
    return f"{call_path(proposal.call)}/{proposal.number}"


def proposal_subject(proposal: Proposal) -> Subject:
    return Subject(
        kind=PROPOSAL,
        id=proposal.id,
        community_id=proposal.community_id,
        title=proposal.title,
        path=proposal_path(proposal),
    )


def call_subject(call: ProposalCall) -> Subject:
    return Subject(
        kind=CALL,
        id=call.id,
        community_id=call.community_id,
        title=call.title,
        path=call_path(call),
    )


def log_change(
    session: Session,
    proposal: Proposal,
    action: str,
    *,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    note: str = "",
    public: bool = True,
    actor_id: UUID | None = None,
    **detail: Any,
) -> None:
    """Append to the proposal's trail (never names or addresses). Cached call pages are
    renewed (a change worth logging is worth showing at once). A public change of status
    is sent to the community's webhooks (ids, number and statuses only)."""
    mark_content_changed(session)
    if public and to_status and to_status != from_status:
        queue_webhook(
            session,
            "proposal.published"
            if to_status == ProposalStatus.PUBLISHED.value
            else "proposal.status_changed",
            {
                "call_id": proposal.call_id,
                "proposal_id": proposal.id,
                "number": proposal.number,
                "kind": proposal.kind,
                "from_status": from_status,
                "to_status": to_status,
            },
            community_id=proposal.community_id,
        )
    session.add(
        ProposalLog(
            proposal_id=proposal.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            note=note,
            public=public,
            actor_id=actor_id,
            detail=detail,
        )
    )
    session.flush()


def private_path(session: Session, person: ProposalPerson, community_id: UUID) -> str:
    """The private page of a proposer or co-proposer (``/p/{token}``)."""
    token = identity.signed_token(session, community_id, PRIVATE_PAGE, person.id)
    return f"/p/{token}"


def person_by_private_token(session: Session, token: str | None) -> ProposalPerson:
    """The proposer or co-proposer whose private page ``token`` opens (``NotFound``)."""
    person_id = identity.signed_subject(token)
    found = session.get(ProposalPerson, person_id) if person_id else None
    if found is None:
        raise NotFound()
    proposal = session.get(Proposal, found.proposal_id)
    if proposal is None or not identity.signature_valid(
        session, proposal.community_id, PRIVATE_PAGE, found.id, token or ""
    ):
        raise NotFound()
    return found


def people_of(session: Session, proposal: Proposal) -> list[ProposalPerson]:
    """Its proposer first, then co-proposers in the order they came."""
    rows = session.scalars(
        select(ProposalPerson)
        .where(ProposalPerson.proposal_id == proposal.id)
        .order_by(ProposalPerson.created_at, ProposalPerson.id)
    )
    return sorted(rows, key=lambda person: person.role != PersonRole.PROPOSER.value)


def proposer_of(session: Session, proposal: Proposal) -> ProposalPerson:
    found = session.scalar(
        select(ProposalPerson).where(
            ProposalPerson.proposal_id == proposal.id,
            ProposalPerson.role == PersonRole.PROPOSER.value,
        )
    )
    if found is None:
        raise NotFound()
    return found


def mail_person(
    session: Session,
    proposal: Proposal,
    person: ProposalPerson,
    kind: str,
    context: dict[str, Any] | None = None,
    links: dict[str, str] | None = None,
) -> None:
    """Queue a ``kind`` mail to one proposer or co-proposer, with their private link."""
    community = _community(session, proposal)
    queue_community_mail(
        session,
        community=community,
        kind=kind,
        to_address=person.email,
        locale=person.locale,
        context={
            "title": proposal.title,
            "name": person.name,
            "role": person.role,
            "status": proposal.status,
            **(context or {}),
        },
        links={
            "private": private_path(session, person, proposal.community_id),
            "proposal": proposal_path(proposal),
            **(links or {}),
        },
    )


def tell_proposers(
    session: Session,
    proposal: Proposal,
    kind: str,
    context: dict[str, Any] | None = None,
    links: dict[str, str] | None = None,
) -> set[str]:
    """Mail the proposer and the co-proposers who joined; returns their keys (so the
    followers' mail can leave them out)."""
    told: set[str] = set()
    for person in people_of(session, proposal):
        if person.role == PersonRole.PROPOSER.value or person.state == PersonState.ACCEPTED.value:
            mail_person(session, proposal, person, kind, context, links)
            told.add(person.person_key)
    return told


def tell_followers(
    session: Session,
    proposal: Proposal,
    kind: str,
    context: dict[str, Any] | None = None,
    *,
    leave_out: frozenset[str] | set[str] = frozenset(),
    with_call: bool = True,
    links: dict[str, str] | None = None,
) -> set[str]:
    """Mail the followers of the proposal (and of its call): each once, with their
    unsubscribe link; returns the keys of those mailed."""
    also = (call_subject(proposal.call),) if with_call else ()
    return follows.notify(
        session,
        _community(session, proposal),
        proposal_subject(proposal),
        kind,
        {"status": proposal.status, **(context or {})},
        also=also,
        links=links,
        leave_out=leave_out,
    )


def _community(session: Session, proposal: Proposal) -> Community:
    community = session.get(Community, proposal.community_id)
    if community is None:
        raise NotFound()
    return community
