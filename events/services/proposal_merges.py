"""Merging duplicate proposals, with both proposers' consent.

An organiser asks to merge proposal A into proposal B of the same call (:func:`request`):
both main proposers are mailed a link to their private page, where each agrees or refuses
(:func:`agree`, :func:`refuse`). Nothing changes until both agreed; one refusal drops the
request. When both agreed (:func:`_merge`):

- A becomes ``merged`` (``merged_into_id`` = B), a final status, with its trail entry;
- A's supports move to B; who supported both keeps one support and gets the other unit of
  their budget back (B's count is recounted under its lock);
- A's followers follow B (who followed both keeps one follow);
- A's proposer and co-proposers join B as co-proposers, named as they chose on A;
- B's trail says another proposal was merged in, and B's followers are told.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.models import (
    PersonRole,
    PersonState,
    Proposal,
    ProposalMerge,
    ProposalPerson,
    ProposalStatus,
    ProposalSupport,
)
from events.models.base import table_of
from events.proposal_lifecycle import require_mergeable, status_of
from events.services import call_allowances, follows
from events.services.call_allowances import Allowance
from events.services.proposal_records import (
    log_change,
    mail_person,
    people_of,
    proposal_path,
    proposal_subject,
    proposer_of,
    tell_followers,
)
from events.validation import clean_text

P = ProposalStatus


def _locked(session: Session, proposal_id: UUID) -> Proposal:
    found = session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound()
    return found


def request(
    session: Session, source: Proposal, into: Proposal, *, actor_id: UUID | None, note: str = ""
) -> ProposalMerge:
    """An organiser asks to merge ``source`` into ``into`` (same call, both alive)."""
    note = clean_text("note", note, max_length=2000, required=False, multiline=True)
    if source.id == into.id:
        raise ValidationFailed({"into": "same_proposal"})
    if source.call_id != into.call_id:
        raise ValidationFailed({"into": "invalid_choice"})
    require_mergeable(source)
    require_mergeable(into)
    waiting = session.scalar(
        select(ProposalMerge.id).where(
            ProposalMerge.proposal_id.in_([source.id, into.id]),
            ProposalMerge.refused_at.is_(None),
            ProposalMerge.done_at.is_(None),
        )
    )
    if waiting is not None:
        raise Conflict("merge_pending")
    merge = ProposalMerge(
        proposal_id=source.id, into_id=into.id, requested_by_id=actor_id, note=note
    )
    session.add(merge)
    session.flush()
    log_change(session, source, "merge_requested", public=False, actor_id=actor_id)
    context = {"other": into.title, "other_path": proposal_path(into), "note": note}
    mail_person(session, source, proposer_of(session, source), "merge_requested", context)
    context = {"other": source.title, "other_path": proposal_path(source), "note": note}
    mail_person(session, into, proposer_of(session, into), "merge_requested", context)
    return merge


def pending_for(session: Session, person: ProposalPerson) -> list[tuple[ProposalMerge, Proposal]]:
    """The merges waiting for this main proposer's answer, each with the other proposal."""
    if person.role != PersonRole.PROPOSER.value:
        return []
    merges = session.scalars(
        select(ProposalMerge).where(
            (ProposalMerge.proposal_id == person.proposal_id)
            | (ProposalMerge.into_id == person.proposal_id),
            ProposalMerge.refused_at.is_(None),
            ProposalMerge.done_at.is_(None),
        )
    )
    found = []
    for merge in merges:
        other_id = merge.into_id if merge.proposal_id == person.proposal_id else merge.proposal_id
        other = session.get(Proposal, other_id)
        if other is not None:
            found.append((merge, other))
    return found


def _open_merge(session: Session, person: ProposalPerson, merge_id: UUID) -> ProposalMerge:
    if person.role != PersonRole.PROPOSER.value:
        raise Forbidden("proposer_only")
    merge = session.scalar(
        select(ProposalMerge).where(ProposalMerge.id == merge_id).with_for_update()
    )
    if merge is None or person.proposal_id not in (merge.proposal_id, merge.into_id):
        raise NotFound()
    if merge.refused_at is not None or merge.done_at is not None:
        raise Conflict("request_answered")
    return merge


def agree(session: Session, person: ProposalPerson, merge_id: UUID) -> ProposalMerge:
    """A main proposer agrees; the merge happens once both did."""
    merge = _open_merge(session, person, merge_id)
    now = utcnow()
    if person.proposal_id == merge.proposal_id:
        merge.from_agreed_at = merge.from_agreed_at or now
    else:
        merge.into_agreed_at = merge.into_agreed_at or now
    session.flush()
    if merge.from_agreed_at and merge.into_agreed_at:
        _merge(session, merge)
    return merge


def refuse(session: Session, person: ProposalPerson, merge_id: UUID) -> ProposalMerge:
    """A main proposer refuses: the request is dropped."""
    merge = _open_merge(session, person, merge_id)
    merge.refused_at = utcnow()
    session.flush()
    source = session.get(Proposal, merge.proposal_id)
    if source is not None:
        log_change(session, source, "merge_refused", public=False)
    return merge


def _merge(session: Session, merge: ProposalMerge) -> None:
    # Both rows locked in one order (by id), so two merges never wait for each other.
    first, second = sorted([merge.proposal_id, merge.into_id])
    locked = {first: _locked(session, first), second: _locked(session, second)}
    source, into = locked[merge.proposal_id], locked[merge.into_id]
    require_mergeable(source)
    require_mergeable(into)
    _move_supports(session, source, into)
    follows.move(session, proposal_subject(source), proposal_subject(into))
    _move_people(session, source, into)
    before = source.status
    source.status = P.MERGED.value
    source.merged_into_id = into.id
    source.draft_answer = None
    merge.done_at = utcnow()
    session.flush()
    log_change(
        session, source, "merged", from_status=before, to_status=P.MERGED.value, into=into.number
    )
    log_change(session, into, "absorbed", source=source.number)
    tell_followers(session, into, "merged", {"other": source.title})


def _move_supports(session: Session, source: Proposal, into: Proposal) -> None:
    supports = table_of(ProposalSupport)
    both = select(supports.c.supporter_key).where(supports.c.proposal_id == into.id)
    # Who supported both keeps one support; B's proposer cannot support their own.
    twice = list(
        session.scalars(
            select(supports.c.supporter_key).where(
                supports.c.proposal_id == source.id,
                supports.c.supporter_key.in_(both)
                | (supports.c.supporter_key == into.proposer_key),
            )
        )
    )
    call_allowances.give_back(session, source.call_id, twice, Allowance.SUPPORTS)
    session.execute(
        delete(supports).where(
            supports.c.proposal_id == source.id, supports.c.supporter_key.in_(twice)
        )
    )
    session.execute(
        update(supports).where(supports.c.proposal_id == source.id).values(proposal_id=into.id)
    )
    count = session.scalar(select(func.count()).where(supports.c.proposal_id == into.id)) or 0
    into.supports = int(count)
    source.supports = 0
    threshold = into.call.threshold
    if threshold is not None and count >= threshold and into.ready_at is None:
        into.ready_at = utcnow()
        log_change(session, into, "threshold_reached", supports=int(count))


def _move_people(session: Session, source: Proposal, into: Proposal) -> None:
    present = {person.person_key for person in people_of(session, into)}
    for person in people_of(session, source):
        joined = person.role == PersonRole.PROPOSER.value or (
            person.state == PersonState.ACCEPTED.value
        )
        if not joined or person.person_key in present:
            continue
        session.add(
            ProposalPerson(
                proposal_id=into.id,
                role=PersonRole.CO_PROPOSER.value,
                state=PersonState.ACCEPTED.value,
                name=person.name,
                email=person.email,
                person_key=person.person_key,
                named=person.named,
                locale=person.locale,
                confirmed_at=person.confirmed_at,
            )
        )
        present.add(person.person_key)
    session.flush()


def is_merged(proposal: Proposal) -> bool:
    return status_of(proposal) is P.MERGED
